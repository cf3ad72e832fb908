//! A terminal progress bar for long CLI imports: one redrawn line per stage on a terminal, one
//! plain line per stage otherwise (logs, CI).
use app::server::importers::attack::import::{Progress, Stage};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

const WIDTH: u64 = 30;

pub struct ProgressBar {
    interactive: bool,
    /// The stage being drawn, and the percentage last drawn for it.
    state: Mutex<Option<(&'static str, u64)>>,
}

impl ProgressBar {
    pub fn new() -> Self {
        Self {
            interactive: std::io::stdout().is_terminal(),
            state: Mutex::new(None),
        }
    }

    /// An ATT&CK import's progress.
    pub fn update(&self, progress: Progress) {
        if progress.stage == Stage::Done {
            self.finish();
            if let Ok(mut state) = self.state.lock() {
                *state = Some((Stage::Done.label(), 100));
            }
            return;
        }
        self.draw(progress.stage.label(), progress.done, progress.total);
    }

    /// Any stage: `done` of `total` under `label`.
    pub fn draw(&self, stage: &'static str, done: u64, total: u64) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let percent = (done * 100).checked_div(total).unwrap_or(100).min(100);
        let mut out = std::io::stdout().lock();
        match *state {
            Some((drawn_stage, drawn))
                if drawn_stage == stage && (!self.interactive || drawn == percent) =>
            {
                return;
            }
            Some((drawn_stage, _)) if drawn_stage != stage && self.interactive => {
                let _ = writeln!(out);
            }
            _ => {}
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
                stage, done, total
            );
        } else {
            let _ = writeln!(out, "  {stage}…");
        }
        let _ = out.flush();
        *state = Some((stage, percent));
    }

    /// Ends the bar's line, whatever stage it stopped at.
    pub fn finish(&self) {
        if self.interactive
            && let Ok(state) = self.state.lock()
            && state.is_some_and(|(stage, _)| stage != Stage::Done.label())
        {
            println!();
        }
    }
}
