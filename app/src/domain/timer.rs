//! The execution timer of a test: it starts on entering `red_executing`, may be paused and
//! resumed there, and stops when the red team submits.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The timer's stored values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub started_at: Option<DateTime<Utc>>,
    /// Set while paused.
    pub paused_at: Option<DateTime<Utc>>,
    /// Seconds spent paused before the current pause.
    pub paused_seconds: i64,
    pub stopped_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerError {
    NotRunning,
    AlreadyPaused,
    NotPaused,
}

impl TimerError {
    pub fn message(self) -> &'static str {
        match self {
            TimerError::NotRunning => "The timer is not running",
            TimerError::AlreadyPaused => "The timer is already paused",
            TimerError::NotPaused => "The timer is not paused",
        }
    }
}

impl Timer {
    /// (Re)starts from zero, as entering `red_executing` does.
    pub fn started(now: DateTime<Utc>) -> Self {
        Timer {
            started_at: Some(now),
            ..Timer::default()
        }
    }

    pub fn is_running(&self) -> bool {
        self.started_at.is_some() && self.paused_at.is_none() && self.stopped_at.is_none()
    }

    pub fn pause(&mut self, now: DateTime<Utc>) -> Result<(), TimerError> {
        if self.started_at.is_none() || self.stopped_at.is_some() {
            return Err(TimerError::NotRunning);
        }
        if self.paused_at.is_some() {
            return Err(TimerError::AlreadyPaused);
        }
        self.paused_at = Some(now);
        Ok(())
    }

    pub fn resume(&mut self, now: DateTime<Utc>) -> Result<(), TimerError> {
        if self.started_at.is_none() || self.stopped_at.is_some() {
            return Err(TimerError::NotRunning);
        }
        let Some(paused_at) = self.paused_at.take() else {
            return Err(TimerError::NotPaused);
        };
        self.paused_seconds += (now - paused_at).num_seconds().max(0);
        Ok(())
    }

    /// Stops for good (submit-red); a pause in progress ends here.
    pub fn stop(&mut self, now: DateTime<Utc>) {
        if self.started_at.is_none() || self.stopped_at.is_some() {
            return;
        }
        if let Some(paused_at) = self.paused_at.take() {
            self.paused_seconds += (now - paused_at).num_seconds().max(0);
        }
        self.stopped_at = Some(now);
    }

    /// Execution time so far, pauses excluded.
    pub fn elapsed_seconds(&self, now: DateTime<Utc>) -> i64 {
        let Some(started) = self.started_at else {
            return 0;
        };
        let end = self.stopped_at.or(self.paused_at).unwrap_or(now);
        ((end - started).num_seconds() - self.paused_seconds).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + seconds, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn the_timer_excludes_pauses() {
        let mut timer = Timer::started(at(0));
        assert!(timer.is_running());
        assert_eq!(timer.elapsed_seconds(at(60)), 60);
        assert_eq!(timer.resume(at(60)), Err(TimerError::NotPaused));
        timer.pause(at(60)).unwrap();
        assert_eq!(timer.pause(at(61)), Err(TimerError::AlreadyPaused));
        assert_eq!(timer.elapsed_seconds(at(500)), 60, "frozen while paused");
        timer.resume(at(120)).unwrap();
        assert_eq!(timer.elapsed_seconds(at(180)), 120);
        timer.pause(at(200)).unwrap();
        timer.stop(at(260));
        assert_eq!(timer.elapsed_seconds(at(10_000)), 140, "stopped: final");
        assert_eq!(timer.pause(at(300)), Err(TimerError::NotRunning));
        assert_eq!(timer.resume(at(300)), Err(TimerError::NotRunning));
        assert_eq!(Timer::default().elapsed_seconds(at(5)), 0);
        assert_eq!(
            Timer::default().pause(at(5)),
            Err(TimerError::NotRunning),
            "never started"
        );
    }
}
