//! Whole-process measurements: spawn, read stdout through a pipe, note when the first row
//! arrives, sample the child's own peak RSS (VmHWM), reap it with `wait4`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

pub struct Measured {
    pub wall_ms: f64,
    /// Time from spawn to the first stdout line that holds a row (`{…` or `[…` with data).
    pub first_row_ms: Option<f64>,
    pub lines: u64,
    pub maxrss_kb: u64,
}

fn is_row(line: &str) -> bool {
    let t = line.trim_start_matches([' ', ',', '[']).trim();
    t.starts_with('{')
        || t.starts_with('"')
        || (line.trim_start().starts_with("[\"") && t.len() > 1)
}

/// The last four lines of a child's stderr, joined with ` | ` (for a failure message).
pub fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}

/// `runs` measured processes of `bin args` after one warm-up process, whose measurement is
/// dropped; `check` sees every process, the warm-up too, and stops at the first error.
pub fn after_warm_up(
    bin: &Path,
    args: &[String],
    envs: Option<&[(String, String)]>,
    runs: usize,
    check: impl Fn(&Measured) -> Result<()>,
) -> Result<Vec<Measured>> {
    let mut measured = Vec::with_capacity(runs);
    for run in 0..=runs {
        let m = spawn_measured(bin, args, envs)?;
        check(&m)?;
        if run > 0 {
            measured.push(m);
        }
    }
    Ok(measured)
}

/// Fails when `who` printed fewer than two lines (a header or row at least besides the first).
pub fn printed_rows(m: &Measured, who: &str) -> Result<()> {
    if m.lines < 2 {
        bail!("{who} printed {} lines", m.lines);
    }
    Ok(())
}

pub fn spawn_measured(
    bin: &Path,
    args: &[String],
    envs: Option<&[(String, String)]>,
) -> Result<Measured> {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs.unwrap_or(&[]) {
        cmd.env(k, v);
    }
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))?;
    let stderr = child.stderr.take().unwrap();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
        s
    });
    // Peak RSS: sample the child's own VmHWM (monotonic) until it is gone. (`wait4`'s
    // ru_maxrss would include this parent's RSS at spawn time: a vfork'd child shares it.)
    let pid = child.id();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            loop {
                let Ok(s) = std::fs::read_to_string(&path) else {
                    break;
                };
                let Some(kb) = s
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                else {
                    break; // exited (zombie: no mm)
                };
                peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    let mut first_row_ms = None;
    let mut lines = 0u64;
    let mut reader = BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        lines += 1;
        if first_row_ms.is_none() && is_row(&line) {
            first_row_ms = Some(t0.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let pid = pid as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall on our own child; std's Child is not waited afterwards.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let err = err_thread.join().unwrap_or_default();
    let _ = sampler.join();
    if r < 0 {
        bail!("wait4 failed");
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{} failed: {}", bin.display(), stderr_tail(&err));
    }
    Ok(Measured {
        wall_ms,
        first_row_ms,
        lines,
        maxrss_kb: peak.load(std::sync::atomic::Ordering::Relaxed),
    })
}
