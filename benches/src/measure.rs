//! Whole-process measurements: spawn, read stdout through a pipe, note when the first row
//! arrives, reap with `wait4` to get the child's own peak RSS.

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
    t.starts_with('{') || t.starts_with('"') || (line.trim_start().starts_with("[\"") && t.len() > 1)
}

pub fn spawn_measured(bin: &Path, args: &[String], envs: Option<&[(String, String)]>) -> Result<Measured> {
    let mut cmd = Command::new(bin);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in envs.unwrap_or(&[]) {
        cmd.env(k, v);
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("spawning {}", bin.display()))?;
    let stderr = child.stderr.take().unwrap();
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
        s
    });
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
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall on our own child; std's Child is not waited afterwards.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let err = err_thread.join().unwrap_or_default();
    if r < 0 {
        bail!("wait4 failed");
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let tail: Vec<&str> = err.lines().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        bail!("{} failed: {}", bin.display(), tail.join(" | "));
    }
    Ok(Measured { wall_ms, first_row_ms, lines, maxrss_kb: usage.ru_maxrss as u64 })
}
