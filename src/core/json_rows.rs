//! JSON_ARRAY rows read one at a time straight from a chunk's text.
//!
//! A chunk's `data_array` (or an external link's body) is an array of rows, each an array of
//! strings or `null`s. Cells without escapes are handed out as slices of the chunk text, so a
//! row costs no allocation before its typed decoding; a cell with escapes is unescaped into a
//! reusable buffer. Rows are read lazily, so a chunk's raw text and one batch of decoded rows are
//! all that is held.

use super::error::{Error, Result};

/// Where the reader stands in the outer array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Before the outer `[`.
    Start,
    /// Before the first row (just after `[`).
    First,
    /// After a row: a `,` or the closing `]` follows.
    Between,
    /// After the closing `]` (or after an error: nothing more is read).
    Done,
}

/// The rows of one chunk: its text and how far they have been read.
#[derive(Debug)]
pub struct JsonRows {
    text: Box<str>,
    pos: usize,
    /// Where the rows' array ends in `text` (the array may sit inside a larger document).
    end: usize,
    /// Set when the array is a member of an object whose other members follow it: where that
    /// object and the array start, so [`JsonRows::rest_of_object`] can give the object without it.
    object_start: Option<(usize, usize)>,
    at: Position,
}

impl JsonRows {
    /// Rows of `text`, a JSON array of rows (not yet checked: errors surface as rows are read).
    pub fn new(text: impl Into<Box<str>>) -> Self {
        let text = text.into();
        JsonRows {
            end: text.len(),
            text,
            pos: 0,
            object_start: None,
            at: Position::Start,
        }
    }

    /// Rows of the array starting at byte `start` of `text`, a member of the object starting at
    /// byte `object` (both found by [`value_start`]): the members after the array are not looked
    /// at until the rows have been read (see [`JsonRows::rest_of_object`]), so the array is
    /// scanned only once.
    pub fn in_object(text: Box<str>, object: usize, start: usize) -> Self {
        JsonRows {
            end: text.len(),
            pos: start.min(text.len()),
            object_start: Some((object, start)),
            text,
            at: Position::Start,
        }
    }

    /// Once every row is read: the enclosing object with the array replaced by `null` (to parse
    /// its other members), followed by whatever came after the object in the text. `None` before
    /// the end, or when the rows are not inside an object.
    pub fn rest_of_object(&self) -> Option<String> {
        let (object, start) = self.object_start?;
        if self.at != Position::Done {
            return None;
        }
        Some(format!(
            "{}null{}",
            self.text.get(object..start)?,
            self.text.get(self.pos..)?
        ))
    }

    /// Rows of the array at `range` of `text` (found by [`locate`]); nothing is copied.
    pub fn within(text: Box<str>, range: std::ops::Range<usize>) -> Self {
        let end = range.end.min(text.len());
        JsonRows {
            pos: range.start.min(end),
            end,
            text,
            object_start: None,
            at: Position::Start,
        }
    }

    /// Rows of a body that must be UTF-8 (an external link's download).
    pub fn from_body(body: Vec<u8>) -> Result<Self> {
        String::from_utf8(body)
            .map(Self::new)
            .map_err(|e| Error::server(format!("result chunk is not UTF-8: {e}")))
    }

    /// The whole text the rows were read from.
    pub fn into_text(self) -> String {
        self.text.into_string()
    }

    /// Whether the array is `[]` (looked at before any row is read).
    pub fn has_no_rows(&self) -> bool {
        self.at == Position::Start
            && self
                .text
                .get(self.pos..self.end)
                .unwrap_or_default()
                .trim_start()
                .strip_prefix('[')
                .is_some_and(|rest| rest.trim_start().starts_with(']'))
    }

    /// Whether every row has been read.
    pub fn is_done(&self) -> bool {
        self.at == Position::Done
    }

    /// Read the next row, handing each cell to `cell(index, text)` (`None` for `null`).
    /// Returns the row's cell count, or `None` once the array has ended. Malformed text is a
    /// `server` error, after which the reader is done.
    pub fn next_row(
        &mut self,
        scratch: &mut String,
        cell: impl FnMut(usize, Option<&str>),
    ) -> Result<Option<usize>> {
        let mut scan = Scanner {
            text: self.text.get(..self.end).unwrap_or_default(),
            pos: self.pos,
        };
        let got = scan.row(&mut self.at, self.object_start.is_some(), scratch, cell);
        self.pos = scan.pos;
        if got.is_err() {
            self.at = Position::Done;
        }
        got.map_err(|(what, at)| {
            Error::server(format!("malformed result rows: {what} at byte {at}"))
        })
    }

    /// Every remaining row with owned cells (small results and tests).
    pub fn to_owned_rows(mut self) -> Result<Vec<Vec<Option<String>>>> {
        let mut rows = Vec::new();
        let mut scratch = String::new();
        loop {
            let mut row = Vec::new();
            match self.next_row(&mut scratch, |_, c| row.push(c.map(str::to_owned)))? {
                Some(_) => rows.push(row),
                None => return Ok(rows),
            }
        }
    }
}

/// Length of the leading run of `bytes` without a quote, backslash or control character,
/// eight bytes at a time (SWAR), then byte by byte for the last few.
#[inline]
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit set in the lowest byte that is zero (exact for the lowest one).
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut n = 0;
    while let Some(Ok(word)) = bytes.get(n..n + 8).map(<[u8; 8]>::try_from) {
        let w = u64::from_le_bytes(word);
        let special = zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if special != 0 {
            return n + (special.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    let tail = bytes.get(n..).unwrap_or_default();
    n + tail
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(tail.len())
}

/// The byte range of the value at `path` (object keys from the top level), e.g.
/// `["result", "data_array"]`, found by skipping every other value without decoding it. `None`
/// when the path is absent, its value is `null`, or the text is not well-formed enough to walk
/// (the caller then parses the whole document, which reports the error).
pub fn locate(text: &str, path: &[&str]) -> Option<std::ops::Range<usize>> {
    let (_, start) = value_start(text, path)?;
    let mut scan = Scanner { text, pos: start };
    scan.skip_value().ok()?;
    Some(start..scan.pos)
}

/// Where the value at `path` starts, and where the object holding it starts, walking (and
/// skipping) only the members before it. `None` as for [`locate`].
pub fn value_start(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let (&last, _) = path.split_last()?;
    let mut scan = Scanner { text, pos: 0 };
    let mut scratch = String::new();
    let mut depth = 0;
    loop {
        // At the start of the object at `path[..depth]`.
        scan.skip_ws();
        let object = scan.pos;
        scan.expect(b'{', "").ok()?;
        let mut first = true;
        loop {
            scan.skip_ws();
            if scan.peek() == Some(b'}') {
                return None;
            }
            if !first {
                scan.expect(b',', "").ok()?;
            }
            first = false;
            scan.expect(b'"', "").ok()?;
            let key = if depth + 1 == path.len() {
                last
            } else {
                path.get(depth)?
            };
            let found = scan.string(&mut scratch).ok()? == key;
            scan.expect(b':', "").ok()?;
            scan.skip_ws();
            if found {
                if depth + 1 == path.len() {
                    let start = scan.pos;
                    let rest = scan.text.as_bytes().get(start..)?;
                    return (!rest.is_empty() && !rest.starts_with(b"null"))
                        .then_some((object, start));
                }
                depth += 1;
                break;
            }
            scan.skip_value().ok()?;
        }
    }
}

/// A syntax error: what was expected and the byte offset.
type SyntaxError = (&'static str, usize);

/// A cursor over the chunk text.
struct Scanner<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Scanner<'t> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consume `b` (after whitespace) or fail with `what`.
    #[inline(always)]
    fn expect(&mut self, b: u8, what: &'static str) -> std::result::Result<(), SyntaxError> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err((what, self.pos))
        }
    }

    /// Step over one value (at its first byte) without decoding it: strings by their quotes,
    /// arrays and objects by their brackets, anything else up to the next delimiter.
    fn skip_value(&mut self) -> std::result::Result<(), SyntaxError> {
        let bytes = self.text.as_bytes();
        if matches!(bytes.get(self.pos), None | Some(b',' | b']' | b'}')) {
            return Err(("expected a value", self.pos));
        }
        let mut depth = 0usize;
        loop {
            match bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    self.skip_string()?;
                }
                Some(b'[' | b'{') => {
                    depth += 1;
                    self.pos += 1;
                }
                Some(b']' | b'}') if depth > 0 => {
                    depth -= 1;
                    self.pos += 1;
                }
                Some(b',' | b']' | b'}') | None if depth == 0 => return Ok(()),
                Some(b' ' | b'\n' | b'\r' | b'\t') if depth == 0 => return Ok(()),
                Some(_) => self.pos += 1,
                None => return Err(("unterminated value", self.pos)),
            }
            if depth == 0
                && matches!(
                    bytes.get(self.pos.wrapping_sub(1)),
                    Some(b'"' | b']' | b'}')
                )
            {
                return Ok(());
            }
        }
    }

    /// Step over the rest of a string whose opening quote was consumed.
    fn skip_string(&mut self) -> std::result::Result<(), SyntaxError> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        loop {
            self.pos += plain_run(bytes.get(self.pos..).unwrap_or_default());
            match bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.pos += 2,
                Some(_) => return Err(("control character in a string", self.pos)),
                None => return Err(("unterminated string", start)),
            }
        }
    }

    /// One row, or `None` at the end of the outer array.
    fn row(
        &mut self,
        at: &mut Position,
        more_follows: bool,
        scratch: &mut String,
        mut cell: impl FnMut(usize, Option<&str>),
    ) -> std::result::Result<Option<usize>, SyntaxError> {
        if *at == Position::Start {
            self.expect(b'[', "expected `[` opening the rows")?;
            *at = Position::First;
        }
        if *at == Position::Done {
            return Ok(None);
        }
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            if !more_follows {
                self.skip_ws();
                if self.pos != self.text.len() {
                    return Err(("unexpected text after the rows", self.pos));
                }
            }
            *at = Position::Done;
            return Ok(None);
        }
        if *at == Position::Between {
            self.expect(b',', "expected `,` or `]` after a row")?;
        }
        self.expect(b'[', "expected `[` opening a row")?;
        *at = Position::Between;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Some(0));
        }
        let mut n = 0;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    let s = self.string(scratch)?;
                    cell(n, Some(s));
                }
                Some(b'n') if self.text.as_bytes()[self.pos..].starts_with(b"null") => {
                    self.pos += 4;
                    cell(n, None);
                }
                _ => return Err(("expected a string or null cell", self.pos)),
            }
            n += 1;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Some(n));
                }
                _ => return Err(("expected `,` or `]` after a cell", self.pos)),
            }
        }
    }

    /// The string whose opening quote was just consumed: borrowed when it has no escapes, else
    /// unescaped into `scratch`.
    fn string<'s>(&mut self, scratch: &'s mut String) -> std::result::Result<&'s str, SyntaxError>
    where
        't: 's,
    {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut i = start + plain_run(bytes.get(start..).unwrap_or_default());
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => {
                    self.pos = i + 1;
                    // Quotes are ASCII, so both ends are char boundaries.
                    return self.text.get(start..i).ok_or(("broken text", start));
                }
                b'\\' => break,
                0..=0x1f => return Err(("control character in a string", i)),
                _ => i += 1,
            }
        }
        if i >= bytes.len() {
            return Err(("unterminated string", start));
        }
        scratch.clear();
        scratch.push_str(self.text.get(start..i).ok_or(("broken text", start))?);
        self.pos = i;
        self.unescape_rest(scratch)?;
        Ok(scratch)
    }

    /// Continue a string with escapes from `self.pos` into `out`, through its closing quote.
    fn unescape_rest(&mut self, out: &mut String) -> std::result::Result<(), SyntaxError> {
        let bytes = self.text.as_bytes();
        loop {
            let run = self.pos;
            while let Some(&b) = bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(self.text.get(run..self.pos).ok_or(("broken text", run))?);
            match bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let esc = self.pos;
                    self.pos += 1;
                    let c = match bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode_escape(esc)?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(("invalid escape", esc)),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return Err(("control character in a string", self.pos)),
                None => return Err(("unterminated string", run)),
            }
        }
    }

    /// Four hex digits at `self.pos`.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// The character of a `\uXXXX` escape (a surrogate pair takes two); `self.pos` is just past
    /// the `u`.
    fn unicode_escape(&mut self, esc: usize) -> std::result::Result<char, SyntaxError> {
        let bad = ("invalid \\u escape", esc);
        let hi = self.hex4().ok_or(bad)?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if !self.text.as_bytes()[self.pos..].starts_with(b"\\u") {
                    return Err(("lone surrogate in \\u escape", esc));
                }
                self.pos += 2;
                let lo = self.hex4().ok_or(bad)?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(("lone surrogate in \\u escape", esc));
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(("lone surrogate in \\u escape", esc)),
            c => c,
        };
        char::from_u32(code).ok_or(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<Vec<Vec<Option<String>>>> {
        JsonRows::new(text).to_owned_rows()
    }

    #[test]
    fn reads_rows_with_nulls_and_whitespace() {
        let got = rows(" [ [\"1\", null ,\"a b\"] ,\n[\"2\",\"\",null]\t] ").unwrap();
        assert_eq!(
            got,
            vec![
                vec![Some("1".into()), None, Some("a b".into())],
                vec![Some("2".into()), Some(String::new()), None],
            ]
        );
        assert_eq!(rows("[]").unwrap(), Vec::<Vec<Option<String>>>::new());
        assert!(JsonRows::new(" [ ] ").has_no_rows());
        assert!(!JsonRows::new("[[]]").has_no_rows());
        assert_eq!(rows("[[]]").unwrap(), vec![Vec::<Option<String>>::new()]);
    }

    #[test]
    fn unescapes_like_serde_json() {
        let text =
            r#"[["q\"b\\s\/\b\f\n\r\t", "\u00e9\u540d\ud83d\ude00", "plain\u0000end", "é名"]]"#;
        let want: Vec<Vec<Option<String>>> = serde_json::from_str(text).unwrap();
        assert_eq!(rows(text).unwrap(), want);
    }

    #[test]
    fn malformed_text_is_a_server_error_and_ends_the_reader() {
        for bad in [
            "",
            "{",
            "[",
            "[[",
            "[[\"a]]",
            "[[1]]",
            "[[\"a\"],]",
            "[[\"a\"]]x",
            "[[\"a\" \"b\"]]",
            "[[nul]]",
            r#"[["\x"]]"#,
            r#"[["\u12"]]"#,
            r#"[["\ud800"]]"#,
            r#"[["\udc00"]]"#,
            r#"[["\ud800\u0041"]]"#,
            "[[\"a\u{1}\"]]",
            "[[\"a\\",
            "[[\"a\"] [\"b\"]]",
        ] {
            let mut r = JsonRows::new(bad);
            let mut scratch = String::new();
            let err = loop {
                match r.next_row(&mut scratch, |_, _| {}) {
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("{bad:?} was accepted"),
                    Err(e) => break e,
                }
            };
            assert_eq!(err.kind, super::super::error::ErrorKind::Server, "{bad:?}");
            assert!(r.is_done());
            assert_eq!(r.next_row(&mut scratch, |_, _| {}).unwrap(), None);
        }
    }

    #[test]
    fn cells_are_handed_out_with_their_index() {
        let mut r = JsonRows::new(r#"[["a","b\n"],["c"]]"#);
        let mut scratch = String::new();
        let mut seen = Vec::new();
        while let Some(n) = r
            .next_row(&mut scratch, |i, c| seen.push((i, c.map(str::to_owned))))
            .unwrap()
        {
            seen.push((99, Some(n.to_string())));
        }
        assert_eq!(
            seen,
            vec![
                (0, Some("a".into())),
                (1, Some("b\n".into())),
                (99, Some("2".into())),
                (0, Some("c".into())),
                (99, Some("1".into())),
            ]
        );
        assert!(r.is_done());
    }

    #[test]
    fn locate_finds_the_rows_by_skipping_everything_else() {
        let text = r#"{"a":"x]}\"{[","b":[1,{"c":[]},"]"],"result":{"n":-1.5e3,"t":true,
            "data_array" : [["1",null],["]\""]] ,"z":null},"after":{}}"#;
        let r = locate(text, &["result", "data_array"]).unwrap();
        assert_eq!(&text[r.clone()], r#"[["1",null],["]\""]]"#);
        let rows = JsonRows::within(text.into(), r).to_owned_rows().unwrap();
        assert_eq!(
            rows,
            vec![vec![Some("1".into()), None], vec![Some("]\"".into())]]
        );
        assert_eq!(
            locate(r#"{"data_array":[]}"#, &["data_array"]),
            Some(14..16)
        );
        for absent in [
            r#"{"data_array":null}"#,
            r#"{"result":{"chunk_index":0}}"#,
            r#"{"result":[]}"#,
            r#"{"result":{"data_array":"#,
            r#"{"a":"unterminated}"#,
            "",
            "[]",
        ] {
            assert_eq!(locate(absent, &["result", "data_array"]), None, "{absent}");
        }
    }

    #[test]
    fn rows_inside_an_object_leave_the_rest_for_later() {
        let text = r#"{"chunk_index":1, "data_array": [["a"],["b\"]"]] , "next_chunk_index":2}"#;
        let (object, start) = value_start(text, &["data_array"]).unwrap();
        assert_eq!(object, 0);
        let mut r = JsonRows::in_object(text.into(), object, start);
        let mut scratch = String::new();
        assert_eq!(r.rest_of_object(), None, "not before the rows are read");
        assert_eq!(r.next_row(&mut scratch, |_, _| {}).unwrap(), Some(1));
        assert_eq!(r.next_row(&mut scratch, |_, _| {}).unwrap(), Some(1));
        assert_eq!(r.next_row(&mut scratch, |_, _| {}).unwrap(), None);
        assert_eq!(
            r.rest_of_object().unwrap(),
            r#"{"chunk_index":1, "data_array": null , "next_chunk_index":2}"#
        );
        assert_eq!(value_start(r#"{"data_array":null}"#, &["data_array"]), None);
        let nested = r#"{"a":1, "result": {"x":[], "data_array":[["1"]], "n":2}, "z":0}"#;
        let (object, start) = value_start(nested, &["result", "data_array"]).unwrap();
        let mut r = JsonRows::in_object(nested.into(), object, start);
        while r.next_row(&mut scratch, |_, _| {}).unwrap().is_some() {}
        assert_eq!(
            r.rest_of_object().unwrap(),
            r#"{"x":[], "data_array":null, "n":2}, "z":0}"#
        );
        assert_eq!(value_start(r#"{"data_array":"#, &["data_array"]), None);
    }

    #[test]
    fn plain_run_stops_at_the_first_special_byte_in_any_lane() {
        for special in [b'"', b'\\', 0x00, 0x1f] {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = special;
                if at + 3 < 20 {
                    bytes[at + 3] = b'"';
                }
                assert_eq!(plain_run(&bytes), at, "byte {special:#x} at {at}");
            }
        }
        assert_eq!(plain_run("é名 ~\x7f".as_bytes()), "é名 ~\x7f".len());
    }

    #[test]
    fn non_utf8_bodies_are_refused() {
        assert!(JsonRows::from_body(vec![b'[', 0xff, b']']).is_err());
        assert!(
            JsonRows::from_body(b"[]".to_vec())
                .unwrap()
                .to_owned_rows()
                .unwrap()
                .is_empty()
        );
    }
}
