//! A terminal progress bar for long CLI imports: one redrawn line per stage on a terminal, one
//! plain line per stage otherwise (logs, CI).
use app::server::attack::import::{Progress, Stage};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

const WIDTH: u64 = 30;

pub struct ProgressBar {
    interactive: bool,
    /// The stage being drawn, and the percentage last drawn for it.
    state: Mutex<Option<(Stage, u64)>>,
}

impl ProgressBar {
    pub fn new() -> Self {
        Self {
            interactive: std::io::stdout().is_terminal(),
            state: Mutex::new(None),
        }
    }

    pub fn update(&self, progress: Progress) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let percent = (progress.done * 100)
            .checked_div(progress.total)
            .unwrap_or(100)
            .min(100);
        let mut out = std::io::stdout().lock();
        match *state {
            Some((stage, drawn))
                if stage == progress.stage && (!self.interactive || drawn == percent) =>
            {
                return;
            }
            Some((stage, _)) if stage != progress.stage && self.interactive => {
                let _ = writeln!(out);
            }
            _ => {}
        }
        if progress.stage == Stage::Done {
            *state = Some((progress.stage, percent));
            return;
        }
        let filled = percent * WIDTH / 100;
        let bar = format!(
            "{}{}",
            "#".repeat(filled as usize),
            "-".repeat((WIDTH - filled) as usize)
        );
        if self.interactive {
            let _ = write!(
                out,
                "\r  {:<18} [{bar}] {percent:>3}% ({}/{})",
                progress.stage.label(),
                progress.done,
                progress.total
            );
        } else {
            let _ = writeln!(out, "  {}…", progress.stage.label());
        }
        let _ = out.flush();
        *state = Some((progress.stage, percent));
    }

    /// Ends the bar's line, whatever stage it stopped at.
    pub fn finish(&self) {
        if self.interactive
            && let Ok(state) = self.state.lock()
            && state.is_some_and(|(stage, _)| stage != Stage::Done)
        {
            println!();
        }
    }
}
