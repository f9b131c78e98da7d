//! SQL sessions (`/api/2.0/sql/sessions`): what a principal opened with `catalog`, `schema`
//! and `session_confs`, inherited by the statements that name the session. A session belongs
//! to the principal that opened it; it ends when deleted or after being idle for the result
//! TTL.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::config::Principal;

/// Session confs the service accepts (its documented allow-list), upper case.
pub const ALLOWED_CONFS: &[&str] = &[
    "ANSI_MODE",
    "ENABLE_PHOTON",
    "LEGACY_TIME_PARSER_POLICY",
    "MAX_FILE_PARTITION_BYTES",
    "READ_ONLY_EXTERNAL_METASTORE",
    "STATEMENT_TIMEOUT",
    "TIMEZONE",
    "USE_CACHED_RESULT",
    "QUERY_TAGS",
];

/// Time zone names the local warehouse accepts for `TIMEZONE` (it computes in UTC only).
const UTC_NAMES: &[&str] = &["UTC", "ETC/UTC", "GMT", "Z", "+00:00", "ETC/GMT"];

/// Open sessions per server at most (a client that never closes its sessions is refused,
/// instead of growing the server without bound).
pub const MAX_SESSIONS: usize = 10_000;

/// Why a session operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Unknown, closed, expired or another principal's.
    #[error("Session {0} does not exist.")]
    NotFound(String),
    /// A conf outside the allow-list.
    #[error("Configuration {0} is not available.")]
    UnknownConf(String),
    /// A conf value the local warehouse cannot honour.
    #[error("Configuration {key} cannot be set to {value}: {why}.")]
    BadConf {
        /// Key.
        key: String,
        /// Value.
        value: String,
        /// Reason.
        why: &'static str,
    },
    /// [`MAX_SESSIONS`] are open.
    #[error("Too many open sessions ({0}); close sessions that are no longer used.")]
    TooMany(usize),
}

/// One open session.
#[derive(Clone, Debug)]
pub struct Session {
    /// Id (`session_id`).
    pub id: String,
    /// Principal that opened it.
    pub owner: String,
    /// Default catalog of its statements.
    pub catalog: Option<String>,
    /// Default schema of its statements.
    pub schema: Option<String>,
    /// Confs as given (keys upper case).
    pub confs: BTreeMap<String, String>,
    last_used: Instant,
}

/// The sessions of a server.
#[derive(Debug)]
pub struct Sessions {
    open: Mutex<HashMap<String, Session>>,
    idle_ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl Sessions {
    /// No sessions; an unused session ends after `idle_ttl` as measured by `clock`.
    pub fn new(idle_ttl: Duration, clock: Arc<dyn Clock>) -> Sessions {
        Sessions {
            open: Mutex::new(HashMap::new()),
            idle_ttl,
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session for `owner`; returns its id.
    pub fn open(
        &self,
        owner: &Principal,
        catalog: Option<String>,
        schema: Option<String>,
        confs: BTreeMap<String, String>,
    ) -> Result<String, SessionError> {
        let mut checked = BTreeMap::new();
        for (k, v) in confs {
            let key = k.to_ascii_uppercase();
            if !ALLOWED_CONFS.contains(&key.as_str()) {
                return Err(SessionError::UnknownConf(k));
            }
            if key == "TIMEZONE" && !UTC_NAMES.contains(&v.to_ascii_uppercase().as_str()) {
                return Err(SessionError::BadConf {
                    key: k,
                    value: v,
                    why: "the local warehouse computes timestamps in UTC only",
                });
            }
            checked.insert(key, v);
        }
        let now = self.clock.now();
        let mut open = self.lock();
        open.retain(|_, s| now.duration_since(s.last_used) <= self.idle_ttl);
        if open.len() >= MAX_SESSIONS {
            return Err(SessionError::TooMany(open.len()));
        }
        let id = crate::registry::new_statement_id();
        open.insert(
            id.clone(),
            Session {
                id: id.clone(),
                owner: owner.name.clone(),
                catalog: catalog.filter(|c| !c.is_empty()),
                schema: schema.filter(|s| !s.is_empty()),
                confs: checked,
                last_used: now,
            },
        );
        tracing::debug!(session_id = %id, "session opened");
        Ok(id)
    }

    /// The session `id` of principal `p` (an admin sees every session); marks it used.
    pub fn get(&self, id: &str, p: &Principal) -> Result<Session, SessionError> {
        let now = self.clock.now();
        let mut open = self.lock();
        match open.get_mut(id) {
            Some(s)
                if (s.owner == p.name || p.admin)
                    && now.duration_since(s.last_used) <= self.idle_ttl =>
            {
                s.last_used = now;
                Ok(s.clone())
            }
            _ => Err(SessionError::NotFound(id.to_string())),
        }
    }

    /// Closes the session `id` of principal `p`.
    pub fn close(&self, id: &str, p: &Principal) -> Result<(), SessionError> {
        self.get(id, p)?;
        self.lock().remove(id);
        tracing::debug!(session_id = %id, "session closed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn sessions(idle_ttl: Duration) -> (Sessions, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new());
        (Sessions::new(idle_ttl, clock.clone()), clock)
    }

    #[test]
    fn sessions_belong_to_their_principal() {
        let (s, _) = sessions(Duration::from_secs(60));
        let alice = Principal::new("alice");
        let bob = Principal::new("bob");
        let admin = Principal::new("root").with_admin(true);
        let confs = BTreeMap::from([("timezone".to_string(), "UTC".to_string())]);
        let id = s
            .open(&alice, Some("main".into()), Some("sch".into()), confs)
            .unwrap();
        assert_eq!(s.get(&id, &alice).unwrap().schema.as_deref(), Some("sch"));
        assert_eq!(s.get(&id, &admin).unwrap().catalog.as_deref(), Some("main"));
        assert_eq!(
            s.get(&id, &bob).unwrap_err(),
            SessionError::NotFound(id.clone())
        );
        assert!(s.close(&id, &bob).is_err());
        s.close(&id, &alice).unwrap();
        assert!(s.get(&id, &alice).is_err());
        assert!(s.close(&id, &alice).is_err());
    }

    #[test]
    fn confs_are_checked() {
        let (s, _) = sessions(Duration::from_secs(60));
        let p = Principal::new("p");
        let conf = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert!(s.open(&p, None, None, conf("ansi_mode", "true")).is_ok());
        assert!(matches!(
            s.open(&p, None, None, conf("spark.foo", "1")),
            Err(SessionError::UnknownConf(_))
        ));
        assert!(matches!(
            s.open(&p, None, None, conf("TIMEZONE", "America/New_York")),
            Err(SessionError::BadConf { .. })
        ));
    }

    #[test]
    fn idle_sessions_end() {
        let (s, clock) = sessions(Duration::ZERO);
        let p = Principal::new("p");
        let id = s.open(&p, None, None, BTreeMap::new()).unwrap();
        clock.advance(Duration::from_millis(5));
        assert!(s.get(&id, &p).is_err());
        // A use restarts the idle time.
        let (s, clock) = sessions(Duration::from_secs(60));
        let id = s.open(&p, None, None, BTreeMap::new()).unwrap();
        clock.advance(Duration::from_secs(60));
        assert!(s.get(&id, &p).is_ok());
        clock.advance(Duration::from_secs(60));
        assert!(s.get(&id, &p).is_ok());
        clock.advance(Duration::from_secs(61));
        assert!(s.get(&id, &p).is_err());
    }
}
