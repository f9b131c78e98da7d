//! The child-process side: `bench __client '<spec json>'` runs one client and prints its
//! report as the last line of stdout.

use std::time::Instant;

use anyhow::{Result, bail};

use crate::native::{Native, Tally, WriteOp};
use crate::proto::{Report, Spec, vmhwm_kb};

pub fn main(spec_json: &str) -> Result<()> {
    let spec: Spec = serde_json::from_str(spec_json)?;
    let report = match spec.client.as_str() {
        "native" => native(&spec)?,
        "component" => crate::component::run(&spec)?,
        other => bail!("unknown client {other}"),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

fn native(spec: &Spec) -> Result<Report> {
    let client = Native::new(&spec.base, &spec.token, &spec.warehouse_id)?;
    client.open()?;
    let mut report = Report::default();
    for run in 0..=spec.runs {
        let t0 = Instant::now();
        match spec.op.as_str() {
            "read" => {
                let mut tally = Tally::default();
                client.query(&spec.sql, spec.external, |row| tally.add_row(row))?;
                report.rows = tally.rows;
                report.checksum = Some(tally.checksum);
            }
            "raw" => {
                let bytes = client.raw(&spec.sql, &spec.raw_paths)?;
                report.extra = serde_json::json!({ "bytes": bytes });
            }
            "write" | "update" | "delete" => {
                // run 0 is the warm-up and uses its own ids
                let start = spec.start_id + run as u64 * spec.stride;
                let ids = start..start + spec.count;
                let op = match spec.op.as_str() {
                    "write" => WriteOp::Insert,
                    "update" => WriteOp::Update,
                    _ => WriteOp::Delete,
                };
                let (n, statements) = client.modify(op, &spec.target, ids, spec.batch_bytes)?;
                report.rows = n;
                report.statements = statements;
            }
            other => bail!("native client: unsupported op {other}"),
        }
        if run > 0 {
            report.times_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
    }
    report.vmhwm_kb = vmhwm_kb();
    Ok(report)
}
