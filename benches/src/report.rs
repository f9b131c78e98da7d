//! The table, the PASS/MISS verdicts and the BENCHMARKS.md section.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::proto::{Report, median};
use crate::replay::Counts;
use crate::{Opts, fmt_rows};

pub enum Outcome {
    Ok {
        wall_ms: f64,
        rows: u64,
        statements: Option<f64>,
        requests: Option<f64>,
        guest_peak: Option<u64>,
        rss_kb: Option<u64>,
        note: String,
    },
    /// Could not run; why.
    NotRun(String),
}

pub struct Line {
    pub mode: String,
    pub workload: String,
    pub client: String,
    pub outcome: Outcome,
    pub extra: serde_json::Value,
}

impl Line {
    pub fn ok(
        mode: &str,
        workload: &str,
        client: &str,
        wall_ms: f64,
        rows: u64,
        bytes: u64,
    ) -> Line {
        Line {
            mode: mode.into(),
            workload: workload.into(),
            client: client.into(),
            outcome: Outcome::Ok {
                wall_ms,
                rows,
                statements: None,
                requests: None,
                guest_peak: None,
                rss_kb: None,
                note: if bytes > 0 {
                    format!("{:.1} MB", bytes as f64 / 1e6)
                } else {
                    String::new()
                },
            },
            extra: serde_json::Value::Null,
        }
    }

    pub fn na(mode: &str, workload: &str, client: &str, why: String) -> Line {
        eprintln!("  {client}: not run: {why}");
        Line {
            mode: mode.into(),
            workload: workload.into(),
            client: client.into(),
            outcome: Outcome::NotRun(why),
            extra: serde_json::Value::Null,
        }
    }

    /// `total_runs`: requests counted at the server are divided by it (warm-up included).
    pub fn from_report(
        mode: &str,
        workload: &str,
        client: &str,
        rep: &Report,
        counts: Option<Counts>,
        total_runs: usize,
        expect_checksum: Option<u64>,
    ) -> Line {
        let mut notes = Vec::new();
        if let (Some(expect), Some(got)) = (expect_checksum, rep.checksum)
            && expect != got
        {
            notes.push(format!("CHECKSUM MISMATCH ({got} ≠ {expect})"));
        }
        if let Some(typed) = rep
            .extra
            .get("typed_ms")
            .and_then(|v| v.as_array())
            .and_then(|a| a.first())
            .and_then(|v| v.as_f64())
        {
            notes.push(format!(
                "strings only; +{typed:.0} ms to convert to int/Decimal"
            ));
        }
        if let Some(n) = rep.extra.get("note").and_then(|v| v.as_str()) {
            notes.push(n.to_string());
        }
        let per = |n: u64| n as f64 / total_runs.max(1) as f64;
        let (statements, requests) = match counts {
            Some(c) => (
                Some(per(c.statements)),
                Some(per(c.requests() - c.warehouses - c.other)),
            ),
            None if rep.statements > 0 => (Some(rep.statements as f64), None),
            None => (None, None),
        };
        let line = Line {
            mode: mode.into(),
            workload: workload.into(),
            client: client.into(),
            outcome: Outcome::Ok {
                wall_ms: median(&rep.times_ms),
                rows: rep.rows,
                statements,
                requests,
                guest_peak: rep.guest_peak_bytes,
                rss_kb: Some(rep.vmhwm_kb),
                note: notes.join("; "),
            },
            extra: rep.extra.clone(),
        };
        if let Outcome::Ok { wall_ms, rows, .. } = &line.outcome {
            eprintln!("  {client}: {wall_ms:.1} ms, {rows} rows");
        }
        line
    }

    pub fn wall(&self) -> Option<f64> {
        match &self.outcome {
            Outcome::Ok { wall_ms, .. } => Some(*wall_ms),
            Outcome::NotRun(_) => None,
        }
    }
}

#[derive(Default)]
pub struct Results {
    pub lines: Vec<Line>,
    pub notes: Vec<String>,
    pub profile: String,
    pub wasm: Option<(std::path::PathBuf, u64)>,
    /// The WAN profile of the `replay WAN` rows.
    pub wan: Option<crate::wan::Wan>,
    /// `/proc/loadavg` when the run started (the machine may be shared).
    pub load_start: String,
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

impl Results {
    pub fn push(&mut self, l: Line) {
        self.lines.push(l);
    }

    pub fn find(&self, mode: &str, workload: &str, client: &str) -> Option<&Line> {
        self.lines
            .iter()
            .find(|l| l.mode == mode && l.workload == workload && l.client == client)
    }

    /// The wall ms of a line that ran.
    pub fn wall(&self, mode: &str, workload: &str, client: &str) -> Option<f64> {
        self.find(mode, workload, client).and_then(Line::wall)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let mut s = String::new();
    writeln!(s, "- CPU: {cpu}; `nproc` = {}", sh("nproc", &[])).unwrap();
    writeln!(
        s,
        "- Kernel: {}; {}",
        sh("uname", &["-sr"]),
        sh("rustc", &["-V"])
    )
    .unwrap();
    writeln!(s, "- `free -g`:\n\n```\n{}\n```", sh("free", &["-g"])).unwrap();
    s
}

/// A target's outcome and what was measured.
pub enum Verdict {
    Pass(String),
    Miss(String),
    NotRun(String),
}

/// Pass/miss by `ok`; not run when nothing was measured.
pub fn verdict(ok: Option<bool>, detail: String) -> Verdict {
    match ok {
        Some(true) => Verdict::Pass(detail),
        Some(false) => Verdict::Miss(detail),
        None => Verdict::NotRun(detail),
    }
}

fn targets(opts: &Opts, r: &Results) -> Vec<(String, Verdict)> {
    let s = &opts.sizes;
    let mut out = Vec::new();
    let reads = [
        format!("read {} (JSON_ARRAY)", fmt_rows(s.small)),
        format!("read {} (JSON_ARRAY)", fmt_rows(s.large)),
        format!("read {} (EXTERNAL_LINKS)", fmt_rows(s.large)),
    ];
    for w in &reads {
        for client in ["component", crate::COMPONENT_COLUMNS] {
            let c = r.wall("replay", w, client);
            let n = r.wall("replay", w, "native");
            let p = r.wall("replay", w, "databricks-sdk-py");
            let f = r.wall("replay", w, "floor (curl raw bytes)");
            let typed = r.find("replay", w, client).is_some_and(
                |l| matches!(&l.outcome, Outcome::Ok { note, .. } if !note.contains("MISMATCH")),
            );
            let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
            let vs_py = ratio(p, c);
            out.push((
                format!("replay {w}: {client} ≥ 5× databricks-sdk-py client time, typed values"),
                verdict(
                    vs_py.map(|x| x >= 5.0 && typed),
                    vs_py.map_or("component or python missing".into(), |x| format!("{x:.2}×")),
                ),
            ));
            let vs_native = ratio(n, c);
            out.push((
                format!("replay {w}: {client} ≥ 0.9× native Rust client"),
                verdict(
                    vs_native.map(|x| x >= 0.9),
                    vs_native.map_or("component or native missing".into(), |x| format!("{x:.2}×")),
                ),
            ));
            let vs_floor = ratio(c, f);
            out.push((
                format!("replay {w}: {client} within 4× of the raw-download floor"),
                verdict(
                    vs_floor.map(|x| x <= 4.0),
                    vs_floor.map_or("component or floor missing".into(), |x| {
                        format!("{x:.2}× the floor")
                    }),
                ),
            ));
        }
    }
    let w = format!("whole process: {} rows → JSON", fmt_rows(s.large));
    let x = r
        .wall("replay", &w, "databricks-sdk-py")
        .zip(r.wall("replay", &w, crate::reads::CLI_JSON))
        .map(|(p, c)| p / c);
    out.push((
        format!("{w}: connector-host query ≥ 3× faster than Python"),
        verdict(
            x.map(|x| x >= 3.0),
            x.map_or("CLI or python missing".into(), |x| format!("{x:.2}×")),
        ),
    ));
    let w = format!("write {}", fmt_rows(s.write));
    let st = r
        .find("replay", &w, "component")
        .and_then(|l| match &l.outcome {
            Outcome::Ok { statements, .. } => *statements,
            _ => None,
        });
    out.push((
        format!("{w}: ≤ 10 statements (component, counted at the server)"),
        verdict(
            st.map(|n| n <= 10.0),
            st.map_or("component missing".into(), |n| format!("{n:.0} statements")),
        ),
    ));
    let inst = r.wall("replay", "instantiate + connect", "component");
    out.push((
        "InstancePre instantiate + connect < 1 ms".into(),
        verdict(
            inst.map(|ms| ms < 1.0),
            inst.map_or("component missing".into(), |ms| {
                format!("{:.0} µs (median)", ms * 1000.0)
            }),
        ),
    ));
    out.push((
        ".wasm < 500 KiB".into(),
        match &r.wasm {
            Some((p, n)) => verdict(
                Some(*n < 500 * 1024),
                format!("{:.0} KiB ({})", *n as f64 / 1024.0, p.display()),
            ),
            None => Verdict::NotRun("component .wasm not found".into()),
        },
    ));
    let gp = |w: &str| {
        r.find("replay", w, "component")
            .and_then(|l| match &l.outcome {
                Outcome::Ok { guest_peak, .. } => *guest_peak,
                _ => None,
            })
    };
    let (small, large) = (gp(&reads[0]), gp(&reads[1]));
    out.push((
        format!(
            "guest memory of a {}-row streamed read < 64 MiB, flat from {} (≤ +10%)",
            fmt_rows(s.large),
            fmt_rows(s.small)
        ),
        match (small, large) {
            (Some(a), Some(b)) => verdict(
                Some(b < 64 * 1024 * 1024 && (b as f64) <= a as f64 * 1.10),
                format!("{} → {}", mib(a), mib(b)),
            ),
            _ => Verdict::NotRun("guest peak memory not reported".into()),
        },
    ));
    let w = format!("SELECT {} rows", fmt_rows(s.large));
    let best = ["component", "native", "databricks-sdk-py"]
        .iter()
        .filter_map(|c| r.find("warehouse", &w, c))
        .filter_map(|l| match &l.outcome {
            Outcome::Ok { wall_ms, rows, .. } if *rows > 0 => {
                Some(*rows as f64 / (wall_ms / 1000.0))
            }
            _ => None,
        })
        .fold(None, |acc: Option<f64>, x| {
            Some(acc.map_or(x, |a| a.max(x)))
        });
    out.push((
        format!(
            "local warehouse serves a {}-row SELECT at ≥ 1M rows/s (fastest client)",
            fmt_rows(s.large)
        ),
        verdict(
            best.map(|x| x >= 1e6),
            best.map_or("warehouse read not run".into(), |x| {
                format!("{:.2}M rows/s", x / 1e6)
            }),
        ),
    ));
    out
}

pub fn render(opts: &Opts, r: &Results) -> String {
    let mut s = String::new();
    writeln!(s, "## Connector\n").unwrap();
    writeln!(
        s,
        "Measured by `{}` ({} profile{}), {}.\n",
        opts.command,
        r.profile,
        if opts.smoke {
            ", smoke sizes: not representative"
        } else {
            ""
        },
        sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    )
    .unwrap();
    s.push_str(&machine());
    writeln!(
        s,
        "- load average (1/5/15 min) when the run started: {}; when it ended: {} (other work on the \
         machine slows every client)",
        r.load_start,
        loadavg()
    )
    .unwrap();
    writeln!(s).unwrap();
    writeln!(
        s,
        "Wall = client time (median of the timed runs; the client's own clock, process start-up and \
         the one warm-up run excluded) except the whole-process rows. Statements and requests are counted at \
         the replay server per run (requests exclude the per-process warehouse check and config probes). `× native` / \
         `× python` / `× kernel` = that client's wall ÷ this row's wall in the same mode and workload (> 1 means this row is faster). Peak RSS is the \
         client process's VmHWM (python: ru_maxrss).\n"
    )
    .unwrap();
    writeln!(s, "| mode | workload | client | wall ms | rows/s | statements | requests | × native | × python | × kernel | guest peak | peak RSS | notes |").unwrap();
    writeln!(s, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|").unwrap();
    for l in &r.lines {
        match &l.outcome {
            Outcome::Ok {
                wall_ms,
                rows,
                statements,
                requests,
                guest_peak,
                rss_kb,
                note,
            } => {
                let rate = if *rows > 0 && *wall_ms > 0.0 {
                    format!("{:.0}", *rows as f64 / (wall_ms / 1000.0))
                } else {
                    String::new()
                };
                let rel = |other: &str| {
                    if l.client == other || l.client.starts_with("floor") {
                        return String::new();
                    }
                    r.wall(&l.mode, &l.workload, other)
                        .map_or(String::new(), |o| format!("{:.2}", o / wall_ms))
                };
                let fmt_opt = |x: &Option<f64>| {
                    x.map_or(String::new(), |v| {
                        if v.fract() == 0.0 {
                            format!("{v:.0}")
                        } else {
                            format!("{v:.1}")
                        }
                    })
                };
                writeln!(
                    s,
                    "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    l.mode,
                    l.workload,
                    l.client,
                    wall_ms,
                    rate,
                    fmt_opt(statements),
                    fmt_opt(requests),
                    rel("native"),
                    rel("databricks-sdk-py"),
                    rel(crate::kernel::KERNEL),
                    guest_peak.map_or(String::new(), mib),
                    rss_kb.map_or(String::new(), |k| format!("{:.0} MiB", k as f64 / 1024.0)),
                    note
                )
                .unwrap();
            }
            Outcome::NotRun(why) => {
                writeln!(
                    s,
                    "| {} | {} | {} | not run | | | | | | | | | {} |",
                    l.mode,
                    l.workload,
                    l.client,
                    why.replace('|', "/")
                )
                .unwrap();
            }
        }
    }
    writeln!(s, "\n### Targets (issue 6)\n").unwrap();
    for (name, v) in targets(opts, r) {
        let (tag, detail) = match v {
            Verdict::Pass(d) => ("PASS", d),
            Verdict::Miss(d) => ("MISS", d),
            Verdict::NotRun(d) => ("NOT RUN", d),
        };
        writeln!(s, "- **{tag}** {name}: {detail}").unwrap();
    }
    crate::report15::render(opts, r, &mut s);
    let extras: Vec<&Line> = r
        .lines
        .iter()
        .filter(|l| {
            l.extra.is_object()
                && l.client != "databricks-sdk-py"
                && l.client != crate::kernel::KERNEL
        })
        .collect();
    if !extras.is_empty() || !r.notes.is_empty() {
        writeln!(s, "\n### Details\n").unwrap();
        for l in extras {
            writeln!(
                s,
                "- {} / {} / {}: `{}`",
                l.mode, l.workload, l.client, l.extra
            )
            .unwrap();
        }
        for n in &r.notes {
            writeln!(s, "- {n}").unwrap();
        }
    }
    s
}

/// Replaces (or appends) the `## Connector` section of `path`.
pub fn write_markdown(path: &Path, section: &str) -> anyhow::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let new = match old.find("## Connector") {
        Some(start) => {
            let after = &old[start + 1..];
            let end = after.find("\n## ").map_or(old.len(), |i| start + 1 + i + 1);
            format!("{}{}\n{}", &old[..start], section.trim_end(), &old[end..])
        }
        None => format!("{}\n\n{}\n", old.trim_end(), section.trim_end()),
    };
    std::fs::write(path, new)?;
    Ok(())
}
