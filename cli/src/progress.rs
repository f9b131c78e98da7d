//! The progress bar of `write`, `update` and `delete`: on a terminal only, never in machine
//! formats or when output is piped.

use std::io::IsTerminal;

use connector_host::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::Format;

/// A bar on stderr, or nothing.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar for `total` items when `format` is the table and both stdout and stderr are
    /// terminals (and no `--output` file is written).
    pub fn new(total: u64, format: Format, to_file: bool, verb: &str) -> Bar {
        let interactive = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
        Bar::when(Bar::wanted(format, to_file, interactive), total, verb)
    }

    /// Whether a bar is shown for this format, output and terminal state.
    pub fn wanted(format: Format, to_file: bool, interactive: bool) -> bool {
        format == Format::Table && !to_file && interactive
    }

    fn when(show: bool, total: u64, verb: &str) -> Bar {
        if !show {
            return Bar(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(&format!("{verb} {{bar:30}} {{pos}}/{{len}} rows ({{per_sec}}, {{eta}} left)"))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Bar(Some(bar))
    }

    /// Report progress.
    pub fn update(&self, p: Progress) {
        if let Some(b) = &self.0 {
            b.set_position(p.sent);
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_only_for_tables_on_a_terminal() {
        assert!(Bar::wanted(Format::Table, false, true));
        assert!(!Bar::wanted(Format::Json, false, true));
        assert!(!Bar::wanted(Format::Jsonl, false, true));
        assert!(!Bar::wanted(Format::Csv, false, true));
        assert!(!Bar::wanted(Format::Table, true, true), "--output file");
        assert!(!Bar::wanted(Format::Table, false, false), "piped");
        let shown = Bar::when(true, 10, "inserting");
        shown.update(Progress { sent: 5, total: 10, affected: 5 });
        assert_eq!(shown.0.as_ref().map(|b| b.position()), Some(5));
        shown.finish();
        assert!(Bar::when(false, 10, "x").0.is_none());
    }
}
