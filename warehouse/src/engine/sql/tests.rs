//! Unit tests of the hand parsers.

use super::*;

#[test]
fn classifies_wire_statements() {
    let m = parse("MERGE INTO `cat`.`sch`.`t` AS t USING (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING>>'))) AS s ON t.`id` = s.c0 WHEN MATCHED THEN UPDATE SET t.`name` = s.c1").unwrap();
    let Stmt::Merge(m) = m else { panic!() };
    assert_eq!(m.target, Name(vec!["cat".into(), "sch".into(), "t".into()]));
    assert_eq!(m.target_alias.as_deref(), Some("t"));
    assert_eq!(m.source_alias.as_deref(), Some("s"));
    assert_eq!(m.on, "t.`id` = s.c0");
    assert_eq!(
        m.clauses[0].action,
        MergeAction::Update(vec![("name".into(), "s.c1".into())])
    );
    let i = parse("INSERT INTO `cat`.`sch`.`t` (`id`, `name`) SELECT c0, c1 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING>>'))) AS s").unwrap();
    let Stmt::Insert {
        columns, source, ..
    } = i
    else {
        panic!()
    };
    assert_eq!(columns, Some(vec!["id".to_string(), "name".to_string()]));
    assert!(source.starts_with("SELECT c0, c1 FROM"));
    let m = parse("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED AND s.x > 1 THEN UPDATE SET * WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT *").unwrap();
    let Stmt::Merge(m) = m else { panic!() };
    assert_eq!(m.clauses.len(), 3);
    assert_eq!(m.clauses[0].predicate.as_deref(), Some("s.x > 1"));
    assert_eq!(
        parse("VACUUM t RETAIN 0 HOURS").unwrap(),
        Stmt::Vacuum {
            table: Name(vec!["t".into()]),
            retain_hours: Some(0.0),
            dry_run: false
        }
    );
    assert_eq!(
        parse("DESCRIBE HISTORY `t` LIMIT 2").unwrap(),
        Stmt::DescribeHistory {
            table: Name(vec!["t".into()]),
            limit: Some(2)
        }
    );
    assert!(matches!(
        parse("INSER INTO x"),
        Err(SqlError::Syntax { .. })
    ));
    assert_eq!(
        render(&tokenize(r"SELECT 'it''s \\ x', `a``b`").unwrap()),
        r"SELECT 'it''s \\ x', `a``b`"
    );
    let c = parse("CREATE TABLE IF NOT EXISTS a.b.c (id BIGINT NOT NULL, amount DECIMAL(10, 2), d DATE, s ARRAY<STRUCT<a: INT, b: STRING>>, m MAP<STRING, INT>) USING DELTA PARTITIONED BY (d)").unwrap();
    let Stmt::CreateTable(CreateTable {
        columns,
        partitioned_by,
        ..
    }) = c
    else {
        panic!()
    };
    assert_eq!(columns[1].type_text, "DECIMAL(10, 2)");
    assert_eq!(columns[3].type_text, "ARRAY<STRUCT<a: INT, b: STRING>>");
    assert_eq!(columns.len(), 5);
    assert!(columns[0].not_null);
    assert_eq!(partitioned_by, vec!["d".to_string()]);
}
