//! What the CLI reads before connecting: SQL (argument, `-f FILE`, or `-` for stdin), records
//! files (or stdin), and parameters — all checked first, so bad input never reaches a server.

use std::io::Read;
use std::path::Path;

use connector_host::{Error, JsonRecordsFile, Param, RecordSource};
use tempfile::NamedTempFile;

use crate::args::SqlSource;

/// Read all of `path`, or stdin when it is `-`.
pub fn read_text(path: &Path, what: &str) -> Result<String, Error> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::invalid_input(format!("cannot read {what} from stdin: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| Error::invalid_input(format!("cannot read {what} {}: {e}", path.display())))
}

/// The SQL text and parameters of a `query` or `exec`.
pub fn sql(source: &SqlSource) -> Result<(String, Vec<Param>), Error> {
    let text = match (&source.sql, &source.file) {
        (Some(s), None) if s == "-" => read_text(Path::new("-"), "SQL")?,
        (Some(s), None) => s.clone(),
        (None, Some(f)) => read_text(f, "SQL")?,
        _ => return Err(Error::invalid_input("give the SQL as an argument, with -f FILE, or as - for stdin")),
    };
    if text.trim().is_empty() {
        return Err(Error::invalid_input("the SQL is empty"));
    }
    let params = source.params.iter().map(|p| Param::parse(p)).collect::<Result<Vec<_>, _>>()?;
    Ok((text, params))
}

/// A records file every record of which parses, holding at least one; JSON Lines are read in
/// constant memory, here and when they are written.
#[derive(Debug)]
pub struct RecordsInput {
    file: JsonRecordsFile,
    /// Stdin copied to a temporary file, so the write can read it more than once.
    _spool: Option<NamedTempFile>,
    count: usize,
}

impl RecordsInput {
    /// How many records.
    pub fn len(&self) -> usize {
        self.count
    }

    /// The records, to read again from the start.
    pub fn source(&self) -> &JsonRecordsFile {
        &self.file
    }
}

/// Records from a JSON Lines or JSON array file (`-` for stdin, spooled to a temporary file),
/// read once through to check them; an empty input is an error.
pub fn records(path: &Path) -> Result<RecordsInput, Error> {
    let stdin = path == Path::new("-");
    let (file, spool) = if stdin {
        let mut spool = NamedTempFile::new().map_err(|e| Error::invalid_input(format!("cannot spool stdin: {e}")))?;
        std::io::copy(&mut std::io::stdin().lock(), spool.as_file_mut())
            .map_err(|e| Error::invalid_input(format!("cannot read records from stdin: {e}")))?;
        (JsonRecordsFile::new(spool.path()), Some(spool))
    } else {
        (JsonRecordsFile::new(path), None)
    };
    let mut count = 0;
    for record in file.records()? {
        record?;
        count += 1;
    }
    if count == 0 {
        let name = if stdin { "stdin".to_string() } else { path.display().to_string() };
        return Err(Error::invalid_input(format!("{name} holds no records")));
    }
    Ok(RecordsInput { file, _spool: spool, count })
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_host::{ErrorKind, Value};
    use std::path::PathBuf;

    fn src(sql: Option<&str>, file: Option<PathBuf>, params: &[&str]) -> SqlSource {
        SqlSource { sql: sql.map(String::from), file, params: params.iter().map(|p| p.to_string()).collect() }
    }

    #[test]
    fn sql_from_argument_or_file_with_string_params() {
        let (sql, params) = sql(&src(Some("SELECT %(a)s"), None, &["a=01234", "b:INT=5", "c:NULL"])).unwrap();
        assert_eq!(sql, "SELECT %(a)s");
        assert_eq!(params.iter().map(|p| p.value.clone()).collect::<Vec<_>>(), vec![
            Value::Text("01234".into()),
            Value::Int(5),
            Value::Null
        ]);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.sql");
        std::fs::write(&f, "SELECT 2\n").unwrap();
        assert_eq!(self::sql(&src(None, Some(f), &[])).unwrap().0, "SELECT 2\n");
    }

    #[test]
    fn bad_sql_sources_and_params_are_invalid_input() {
        let missing = src(None, Some(PathBuf::from("/nonexistent/q.sql")), &[]);
        assert_eq!(sql(&missing).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(sql(&src(Some("  "), None, &[])).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(sql(&src(Some("SELECT 1"), None, &["novalue"])).unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn records_files_must_hold_records() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.jsonl");
        std::fs::write(&f, "{\"id\": 1}\n{\"id\": 2}\n").unwrap();
        assert_eq!(records(&f).unwrap().len(), 2);
        std::fs::write(&f, "\n").unwrap();
        let e = records(&f).unwrap_err();
        assert!(e.text().contains("holds no records"), "{e}");
        std::fs::write(&f, "{\"id\": 1,}").unwrap();
        assert_eq!(records(&f).unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}
