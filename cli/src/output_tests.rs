//! Unit tests of `output.rs`: every format, streaming in batches, control characters.

use std::cell::RefCell;
use std::rc::Rc;

use super::*;

#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.borrow().clone()).expect("utf-8")
    }
}

fn write(format: Format, batches: &[Vec<Vec<Value>>]) -> String {
    let buf = Buf::default();
    let mut out = Out::to(buf.clone());
    let mut w = RowWriter::new(format, vec!["id".into(), "name".into()]);
    for b in batches {
        w.batch(&mut out, b).expect("batch");
    }
    w.finish(&mut out).expect("finish");
    buf.text()
}

fn row(id: i64, name: &str) -> Vec<Value> {
    vec![Value::BigInt(id), Value::Text(name.into())]
}

#[test]
fn table_widths_come_from_the_first_batch_and_later_cells_are_cut() {
    let text = write(Format::Table, &[vec![row(1, "Ada"), row(22, "Alan")], vec![row(3, "Grace Hopper")]]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, vec!["id | name", "---+-----", "1  | Ada", "22 | Alan", "3  | Gra…", "(3 rows)"]);
}

#[test]
fn empty_results_in_every_format() {
    assert_eq!(write(Format::Table, &[]), "id | name\n---+-----\n(0 rows)\n");
    assert_eq!(write(Format::Json, &[]), "[]\n");
    assert_eq!(write(Format::Jsonl, &[]), "");
    assert_eq!(write(Format::Csv, &[]), "id,name\n");
}

#[test]
fn json_jsonl_and_csv_across_batches() {
    let batches = [vec![row(1, "a,b")], vec![vec![Value::BigInt(2), Value::Null]]];
    let json: serde_json::Value = serde_json::from_str(&write(Format::Json, &batches)).expect("one JSON array");
    assert_eq!(json, serde_json::json!([{"id": 1, "name": "a,b"}, {"id": 2, "name": null}]));
    assert_eq!(write(Format::Jsonl, &batches), "{\"id\":1,\"name\":\"a,b\"}\n{\"id\":2,\"name\":null}\n");
    assert_eq!(write(Format::Csv, &batches), "id,name\n1,\"a,b\"\n2,\n");
}

#[test]
fn control_characters_never_reach_the_terminal() {
    let evil = "x\u{1b}[31mred\u{7}\nnext";
    let table = write(Format::Table, &[vec![row(1, evil)]]);
    assert!(!table.contains('\u{1b}') && !table.contains('\u{7}'), "{table:?}");
    assert!(table.contains("x\u{FFFD}[31mred\u{FFFD} next"), "{table:?}");
    let csv = write(Format::Csv, &[vec![row(1, evil)]]);
    assert!(!csv.contains('\u{1b}'), "{csv:?}");
    assert!(csv.contains("\"x\u{FFFD}[31mred\u{FFFD}\nnext\""), "newlines stay, quoted: {csv:?}");
    // JSON escapes them itself.
    let json = write(Format::Jsonl, &[vec![row(1, evil)]]);
    assert!(json.contains("\\u001b"), "{json:?}");
    assert_eq!(sanitize("plain", Keep::Nothing), "plain");
    assert_eq!(sanitize("a\u{9b}b\tc", Keep::Lines), "a\u{FFFD}b\tc");
}

#[test]
fn wide_characters_are_measured_in_columns() {
    let text = write(Format::Table, &[vec![row(1, "日本語"), row(2, "ab")]]);
    assert!(text.lines().any(|l| l == "2  | ab"), "{text}");
    assert!(text.lines().next().is_some_and(|h| h == "id | name"), "{text}");
    assert_eq!(fit("日本語テキスト", 7), "日本語…");
}

#[test]
fn counts_and_executions_per_format() {
    let buf = Buf::default();
    let mut out = Out::to(buf.clone());
    count(Format::Table, &mut out, 1, "deleted").unwrap();
    count(Format::Json, &mut out, 2, "deleted").unwrap();
    count(Format::Csv, &mut out, 3, "deleted").unwrap();
    let e = Execution { statement_id: "s1".into(), elapsed_ms: 5, rows_affected: 2, row_count: 0, retries: 1 };
    execution(Format::Jsonl, &mut out, &e).unwrap();
    assert_eq!(
        buf.text(),
        "deleted 1 row\n{\"count\":2}\ncount\n3\n{\"statement_id\":\"s1\",\"elapsed_ms\":5,\"rows_affected\":2,\"row_count\":0,\"retries\":1}\n"
    );
}
