//! The seeder's time arithmetic: spans in seconds, and moments relative to others.
use chrono::{DateTime, Duration as Span, Utc};

pub(super) const DAY: i64 = 86_400;
pub(super) const HOUR: i64 = 3_600;
pub(super) const MINUTE: i64 = 60;

/// `seconds` after `t` (before it when negative).
pub(super) fn at(t: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    t + Span::seconds(seconds)
}

/// A point `fraction` of the way through `from..to`.
pub(super) fn within(from: DateTime<Utc>, to: DateTime<Utc>, fraction: f64) -> DateTime<Utc> {
    let millis = (to - from).num_milliseconds() as f64 * fraction;
    from + Span::milliseconds(millis as i64)
}
