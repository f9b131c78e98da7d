//! CREATE VOLUME and DROP VOLUME: a managed volume is the directory
//! `<data>/.volumes/<catalog>/<schema>/<volume>` (see [`crate::volumes`]).

use super::error::{SqlError, quote_name};
use super::sql::Name;
use super::{Engine, Outcome, Stmtx};
use crate::config::Privilege;
use crate::names::{self, Kind};
use crate::volumes::VolumeRef;

impl Engine {
    /// Resolves a 1- to 3-part volume name against the statement defaults; the schema must
    /// exist.
    pub(crate) fn resolve_volume(&self, x: &Stmtx, name: &Name) -> Result<VolumeRef, SqlError> {
        let p: Vec<String> = name.0.iter().map(|s| s.to_ascii_lowercase()).collect();
        let (catalog, schema, volume) = match p.as_slice() {
            [v] => (x.catalog.clone(), x.schema.clone(), v.clone()),
            [s, v] => (x.catalog.clone(), s.clone(), v.clone()),
            [c, s, v] => (c.clone(), s.clone(), v.clone()),
            _ => return Err(SqlError::syntax(".")),
        };
        names::check(Kind::Catalog, &catalog)?;
        names::check(Kind::Schema, &schema)?;
        names::check(Kind::Volume, &volume)?;
        if !self.catalog_dir(&catalog)?.is_dir() {
            return Err(SqlError::CatalogNotFound { name: catalog });
        }
        if !self.schema_dir(&catalog, &schema)?.is_dir() {
            return Err(SqlError::SchemaNotFound {
                name: quote_name(&[&catalog, &schema]),
            });
        }
        Ok(VolumeRef {
            catalog,
            schema,
            volume,
        })
    }

    /// `CREATE VOLUME [IF NOT EXISTS] name [COMMENT '...']` (the comment is not kept). Needs
    /// MODIFY on the schema, as CREATE TABLE.
    pub(crate) fn create_volume(
        &self,
        x: &Stmtx,
        name: &Name,
        if_not_exists: bool,
    ) -> Result<Outcome, SqlError> {
        let v = self.resolve_volume(x, name)?;
        if !x
            .principal
            .allows(Privilege::Modify, &v.catalog, &v.schema, None)
        {
            return Err(SqlError::Permission {
                privilege: "CREATE VOLUME".into(),
                kind: "Schema".into(),
                securable: format!("{}.{}", v.catalog, v.schema),
            });
        }
        let dir = v.dir(self.root())?;
        if dir.is_dir() {
            return if if_not_exists {
                Ok(Outcome::Empty)
            } else {
                Err(SqlError::VolumeExists {
                    name: quote_name(&[&v.catalog, &v.schema, &v.volume]),
                })
            };
        }
        self.contained(&dir)?;
        std::fs::create_dir_all(&dir).map_err(|e| SqlError::Internal(e.to_string()))?;
        Ok(Outcome::Empty)
    }

    /// `DROP VOLUME [IF EXISTS] name`: the volume and every file in it. Needs MODIFY on the
    /// schema or ALL PRIVILEGES on the volume, as DROP TABLE.
    pub(crate) fn drop_volume(
        &self,
        x: &Stmtx,
        name: &Name,
        if_exists: bool,
    ) -> Result<Outcome, SqlError> {
        let v = self.resolve_volume(x, name)?;
        let dir = v.dir(self.root())?;
        if !dir.is_dir() {
            return if if_exists {
                Ok(Outcome::Empty)
            } else {
                Err(SqlError::VolumeNotFound {
                    name: quote_name(&[&v.catalog, &v.schema, &v.volume]),
                })
            };
        }
        if !x
            .principal
            .allows(Privilege::Modify, &v.catalog, &v.schema, None)
            && !x
                .principal
                .allows(Privilege::All, &v.catalog, &v.schema, Some(&v.volume))
        {
            return Err(SqlError::Permission {
                privilege: "MANAGE".into(),
                kind: "Volume".into(),
                securable: v.full(),
            });
        }
        self.contained(&dir)?;
        std::fs::remove_dir_all(&dir).map_err(|e| SqlError::Internal(e.to_string()))?;
        Ok(Outcome::Empty)
    }
}
