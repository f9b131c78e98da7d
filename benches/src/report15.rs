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

/// A speed target: `ours` (a workload's line of a client) at least `min` times as fast as
/// `baseline`, both in `mode`.
struct Speedup<'a> {
    name: String,
    mode: &'a str,
    baseline: (&'a str, &'a str),
    ours: (&'a str, &'a str),
    min: f64,
    missing: &'a str,
}

impl Speedup<'_> {
    fn judge(self, r: &Results) -> (String, Verdict) {
        let wall = |(workload, client): (&str, &str)| r.wall(self.mode, workload, client);
        let x = ratio(wall(self.baseline), wall(self.ours));
        (self.name, at_least(x, self.min, self.missing))
    }
}

fn targets(opts: &Opts, r: &Results) -> Vec<(String, Verdict)> {
    let large = opts.sizes.large;
    let arrow = read_name(large, ReadKind::Arrow);
    let links = read_name(large, ReadKind::JsonLinks);
    let whole = whole_name(large);
    let rows = fmt_rows(large);
    let components = ["component", COMPONENT_COLUMNS];
    let as_fast_as_the_kernel = |label: &str, mode: &'static str, client: &'static str| Speedup {
        name: format!("{label} {rows}: {client} (Arrow) client time ≥ 1.0× {KERNEL}"),
        mode,
        baseline: (arrow.as_str(), KERNEL),
        ours: (arrow.as_str(), client),
        min: 1.0,
        missing: "component or kernel missing",
    };
    let mut speedups: Vec<Speedup> = components
        .map(|c| as_fast_as_the_kernel("WAN", MODE_WAN, c))
        .into();
    speedups.extend([
        Speedup {
            name: format!("WAN {rows}: whole process, {CLI_ARROW} ≥ 1.0× the kernel's Python process"),
            mode: MODE_WAN,
            baseline: (whole.as_str(), KERNEL),
            ours: (whole.as_str(), CLI_ARROW),
            min: 1.0,
            missing: "CLI or kernel missing",
        },
        Speedup {
            name: format!("WAN {rows}: {COMPONENT_COLUMNS} (Arrow) client time ≥ 5× {SDK} (JSON_ARRAY EXTERNAL_LINKS)"),
            mode: MODE_WAN,
            baseline: (links.as_str(), SDK),
            ours: (arrow.as_str(), COMPONENT_COLUMNS),
            min: 5.0,
            missing: "component or sdk-py missing",
        },
        Speedup {
            name: format!("WAN {rows}: whole process, {CLI_ARROW} ≥ 5× {SDK}"),
            mode: MODE_WAN,
            baseline: (whole.as_str(), SDK),
            ours: (whole.as_str(), CLI_ARROW),
            min: 5.0,
            missing: "CLI or sdk-py missing",
        },
    ]);
    speedups.extend(components.map(|c| as_fast_as_the_kernel("loopback", LOOPBACK, c)));
    let mut out: Vec<(String, Verdict)> = speedups.into_iter().map(|t| t.judge(r)).collect();
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
