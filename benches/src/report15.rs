//! Issue 15's part of the report: loopback and the WAN profile side by side, and the targets
//! that judge the connector against databricks-sql-kernel and databricks-sdk-py.

use std::fmt::Write as _;

use crate::kernel::KERNEL;
use crate::reads::{CLI_ARROW, MODE_WAN, ReadKind, read_name, whole_name};
use crate::report::{Outcome, Results, Verdict, verdict};
use crate::{COMPONENT_COLUMNS, Opts, fmt_rows};

const LOOPBACK: &str = "replay";
const SDK: &str = "databricks-sdk-py";

fn side_by_side(r: &Results, s: &mut String) {
    let Some(wan) = r.wan else { return };
    let pairs: Vec<(&str, &str, Option<f64>, f64)> = r
        .lines
        .iter()
        .filter(|l| l.mode == MODE_WAN)
        .filter_map(|l| {
            l.wall().map(|w| {
                (
                    l.workload.as_str(),
                    l.client.as_str(),
                    r.wall(LOOPBACK, &l.workload, &l.client),
                    w,
                )
            })
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n### Loopback and {} side by side\n", wan.label());
    let _ = writeln!(
        s,
        "The `{MODE_WAN}` rows above: the same replay server with {:.0} ms added to every answer and each response \
         body paced to {:.0} MB/s (a cap per body: a client downloading several links at once gets it per link).\n",
        wan.latency.as_secs_f64() * 1e3,
        wan.bytes_per_s / 1e6
    );
    let _ = writeln!(
        s,
        "| workload | client | loopback ms | WAN ms | WAN − loopback ms |"
    );
    let _ = writeln!(s, "|---|---|--:|--:|--:|");
    for (workload, client, lo, w) in pairs {
        let (lo_s, d) = lo.map_or((String::new(), String::new()), |lo| {
            (format!("{lo:.1}"), format!("{:.1}", w - lo))
        });
        let _ = writeln!(s, "| {workload} | {client} | {lo_s} | {w:.1} | {d} |");
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    a.zip(b).map(|(a, b)| a / b)
}

fn at_least(x: Option<f64>, min: f64, missing: &str) -> Verdict {
    verdict(
        x.map(|x| x >= min),
        x.map_or(missing.to_string(), |x| format!("{x:.2}×")),
    )
}

fn targets(opts: &Opts, r: &Results) -> Vec<(String, Verdict)> {
    let large = opts.sizes.large;
    let arrow = read_name(large, ReadKind::Arrow);
    let links = read_name(large, ReadKind::JsonLinks);
    let whole = whole_name(large);
    let rows = fmt_rows(large);
    let mut out = Vec::new();
    for client in ["component", COMPONENT_COLUMNS] {
        out.push((
            format!("WAN {rows}: {client} (Arrow) client time ≥ 1.0× {KERNEL}"),
            at_least(
                ratio(
                    r.wall(MODE_WAN, &arrow, KERNEL),
                    r.wall(MODE_WAN, &arrow, client),
                ),
                1.0,
                "component or kernel missing",
            ),
        ));
    }
    out.push((
        format!("WAN {rows}: whole process, {CLI_ARROW} ≥ 1.0× the kernel's Python process"),
        at_least(
            ratio(
                r.wall(MODE_WAN, &whole, KERNEL),
                r.wall(MODE_WAN, &whole, CLI_ARROW),
            ),
            1.0,
            "CLI or kernel missing",
        ),
    ));
    out.push((
        format!("WAN {rows}: {COMPONENT_COLUMNS} (Arrow) client time ≥ 5× {SDK} (JSON_ARRAY EXTERNAL_LINKS)"),
        at_least(ratio(r.wall(MODE_WAN, &links, SDK), r.wall(MODE_WAN, &arrow, COMPONENT_COLUMNS)), 5.0, "component or sdk-py missing"),
    ));
    out.push((
        format!("WAN {rows}: whole process, {CLI_ARROW} ≥ 5× {SDK}"),
        at_least(
            ratio(
                r.wall(MODE_WAN, &whole, SDK),
                r.wall(MODE_WAN, &whole, CLI_ARROW),
            ),
            5.0,
            "CLI or sdk-py missing",
        ),
    ));
    for client in ["component", COMPONENT_COLUMNS] {
        out.push((
            format!("loopback {rows}: {client} (Arrow) client time ≥ 1.0× {KERNEL}"),
            at_least(
                ratio(
                    r.wall(LOOPBACK, &arrow, KERNEL),
                    r.wall(LOOPBACK, &arrow, client),
                ),
                1.0,
                "component or kernel missing",
            ),
        ));
    }
    let peak = r
        .lines
        .iter()
        .filter(|l| l.workload == arrow)
        .filter_map(|l| match &l.outcome {
            Outcome::Ok { guest_peak, .. } => *guest_peak,
            Outcome::NotRun(_) => None,
        })
        .max();
    out.push((
        format!("guest memory of a {rows}-row Arrow read < 64 MiB (largest over the Arrow component runs)"),
        verdict(
            peak.map(|b| b < 64 * 1024 * 1024),
            peak.map_or("guest peak not reported".into(), |b| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))),
        ),
    ));
    out
}

/// Appends the side-by-side table and the issue-15 targets.
pub fn render(opts: &Opts, r: &Results, s: &mut String) {
    side_by_side(r, s);
    let _ = writeln!(
        s,
        "\n### Targets (issue 15: the connector against databricks-sql-kernel)\n"
    );
    for (name, v) in targets(opts, r) {
        let (tag, detail) = match v {
            Verdict::Pass(d) => ("PASS", d),
            Verdict::Miss(d) => ("MISS", d),
            Verdict::NotRun(d) => ("NOT RUN", d),
        };
        let _ = writeln!(s, "- **{tag}** {name}: {detail}");
    }
}
