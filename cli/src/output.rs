//! Table and JSON output of the CLI.

use connector_host::{Column, HistoryEntry, Row, Value, format_timestamp};

/// Widest a table cell is printed, in characters.
const MAX_CELL: usize = 48;

/// Print rows as an aligned text table followed by a row count.
pub fn print_table(columns: &[String], rows: &[Vec<Value>]) {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(cell).collect()).collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |vals: &[String]| {
        let parts: Vec<String> =
            vals.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}", w = *w)).collect();
        println!("{}", parts.join(" | ").trim_end());
    };
    line(columns);
    println!("{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-"));
    for row in &cells {
        line(row);
    }
    println!("({} row{})", rows.len(), if rows.len() == 1 { "" } else { "s" });
}

/// Print keyed rows as a table (columns from the first row, or from `columns` if given).
pub fn print_rows(rows: &[Row], columns: Option<&[Column]>) {
    let names: Vec<String> = match columns {
        Some(cols) => cols.iter().map(|c| c.name.clone()).collect(),
        None => rows.first().map(|r| r.iter().map(|(n, _)| n.to_string()).collect()).unwrap_or_default(),
    };
    let values: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| names.iter().map(|n| r.get(n).cloned().unwrap_or(Value::Null)).collect())
        .collect();
    print_table(&names, &values);
}

fn cell(v: &Value) -> String {
    let s = v.to_string().replace(['\n', '\r', '\t'], " ");
    if s.chars().count() > MAX_CELL {
        let mut t: String = s.chars().take(MAX_CELL - 1).collect();
        t.push('…');
        t
    } else {
        s
    }
}

/// History entries as a table.
pub fn print_history(entries: &[HistoryEntry]) {
    let columns: Vec<String> =
        ["version", "timestamp", "operation", "user", "parameters", "metrics"].iter().map(|s| s.to_string()).collect();
    let rows: Vec<Vec<Value>> = entries
        .iter()
        .map(|e| {
            vec![
                Value::BigInt(e.version),
                Value::Text(format_timestamp(e.timestamp)),
                Value::Text(e.operation.clone()),
                e.user_name.clone().map_or(Value::Null, Value::Text),
                Value::Text(e.operation_parameters.clone()),
                Value::Text(e.operation_metrics.clone()),
            ]
        })
        .collect();
    print_table(&columns, &rows);
}

/// History entries as JSON objects (timestamps RFC 3339, parameters and metrics as objects).
pub fn history_json(entries: &[HistoryEntry]) -> serde_json::Value {
    serde_json::Value::Array(
        entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "version": e.version,
                    "timestamp": format_timestamp(e.timestamp),
                    "operation": e.operation,
                    "userName": e.user_name,
                    "operationParameters": e.parameters(),
                    "operationMetrics": e.metrics(),
                })
            })
            .collect(),
    )
}

/// Print any serializable value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: host: cannot print JSON: {e}"),
    }
}
