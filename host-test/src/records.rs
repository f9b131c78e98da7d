//! Sources of records to write, read a record at a time: a JSON Lines file streams in constant
//! memory, and every source can be read again from the start ([`RecordSource::records`]), so
//! an ingestion can check all records before it sends any.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::row::Row;

/// One pass over a source's records; each item is a record or the reason it is not one
/// (`invalid-input` naming the 1-based record).
pub type Records<'a> = Box<dyn Iterator<Item = Result<Cow<'a, Row>, Error>> + 'a>;

/// Records that can be read more than once, each pass from the first record.
pub trait RecordSource {
    /// A new pass over the records.
    fn records(&self) -> Result<Records<'_>, Error>;
}

impl RecordSource for [Row] {
    fn records(&self) -> Result<Records<'_>, Error> {
        Ok(Box::new(self.iter().map(|r| Ok(Cow::Borrowed(r)))))
    }
}

impl RecordSource for Vec<Row> {
    fn records(&self) -> Result<Records<'_>, Error> {
        self.as_slice().records()
    }
}

/// A file of records: JSON Lines (one object per line; streamed, so memory holds one record),
/// or a JSON array of objects (read whole).
#[derive(Debug, Clone)]
pub struct JsonRecordsFile {
    path: PathBuf,
}

impl JsonRecordsFile {
    /// The records of the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> JsonRecordsFile {
        JsonRecordsFile { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RecordSource for JsonRecordsFile {
    fn records(&self) -> Result<Records<'_>, Error> {
        let file = File::open(&self.path)
            .map_err(|e| Error::invalid_input(format!("cannot read records {}: {e}", self.path.display())))?;
        reader(file)
    }
}

/// A pass over the records in `input`: JSON Lines are read as they come; a JSON array (the first
/// byte that is not white space is `[`) is read whole.
pub fn reader<'a>(input: impl Read + 'a) -> Result<Records<'a>, Error> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    if first_byte(&mut input)? == Some(b'[') {
        let mut text = String::new();
        input.read_to_string(&mut text).map_err(read_error)?;
        let rows = Row::parse_records(&text)?;
        return Ok(Box::new(rows.into_iter().map(|r| Ok(Cow::Owned(r)))));
    }
    let stream = serde_json::Deserializer::from_reader(input).into_iter::<Row>();
    let mut failed = false;
    Ok(Box::new(stream.enumerate().map_while(move |(i, row)| {
        // After a malformed record the stream cannot resynchronise: one error ends the pass.
        if failed {
            return None;
        }
        failed = row.is_err();
        Some(row.map(Cow::Owned).map_err(|e| Error::invalid_input(format!("record {}: {e}", i + 1))))
    })))
}

/// The first byte of `input` that is not white space (left unread), if any.
fn first_byte(input: &mut impl BufRead) -> Result<Option<u8>, Error> {
    loop {
        let buf = input.fill_buf().map_err(read_error)?;
        let Some(&b) = buf.first() else { return Ok(None) };
        if !b.is_ascii_whitespace() {
            return Ok(Some(b));
        }
        input.consume(1);
    }
}

fn read_error(e: std::io::Error) -> Error {
    Error::invalid_input(format!("cannot read records: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::value::Value;

    fn all(input: &str) -> Vec<Result<Row, Error>> {
        reader(input.as_bytes()).unwrap().map(|r| r.map(Cow::into_owned)).collect()
    }

    #[test]
    fn json_lines_and_arrays_read_alike() {
        let lines = all("\n {\"id\": 1, \"amount\": 12.50}\n{\"id\": 2}\n");
        let array = all("  [{\"id\": 1, \"amount\": 12.50}, {\"id\": 2}]");
        assert_eq!(lines.len(), 2);
        for (l, a) in lines.iter().zip(&array) {
            assert_eq!(l.as_ref().unwrap(), a.as_ref().unwrap());
        }
        let first = lines[0].as_ref().unwrap();
        assert_eq!(first.get("amount").map(|v| v.to_string()), Some("12.50".into()), "exact digits");
        assert_eq!(first.get("id"), Some(&Value::BigInt(1)));
        assert!(all("").is_empty());
    }

    #[test]
    fn a_malformed_record_is_named_and_ends_the_pass() {
        let got = all("{\"id\": 1}\n{\"id\": \n{\"id\": 3}\n");
        assert_eq!(got.len(), 2);
        let e = got[1].as_ref().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.text().starts_with("record 2:"), "{e}");
    }

    #[test]
    fn a_source_reads_again_from_the_start() {
        let dir = std::env::temp_dir().join(format!("openmatch-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.jsonl");
        std::fs::write(&path, "{\"id\": 1}\n{\"id\": 2}\n").unwrap();
        let file = JsonRecordsFile::new(&path);
        for _ in 0..2 {
            assert_eq!(file.records().unwrap().count(), 2);
        }
        let missing = JsonRecordsFile::new(dir.join("none.jsonl")).records().err().unwrap();
        assert_eq!(missing.kind(), ErrorKind::InvalidInput);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
