//! Heatmap modes: what the matrix and the Navigator layer colour a technique by, and the
//! colour of a value in each (the scoring engine computes the values, `domain::scoring`).
use crate::domain::values::string_enum;

string_enum! {
    /// What the matrix and the Navigator layer colour a technique by.
    #[derive(Default)]
    pub enum HeatMode ("heatmap mode") {
        #[default]
        Status = "status" / "Coverage status",
        Score = "score" / "Score",
        Priority = "priority" / "Priority",
        Gap = "gap" / "Gap (priority × missing score)",
        Visibility = "visibility" / "Data-source visibility",
    }
}

/// The colour of a value (0–100) in a heatmap mode: score and visibility from red through
/// amber to green, priority from pale to deep violet, gap from pale to deep red. `Status` has
/// its own colours (`CoverageStatus::color`).
pub fn gradient(mode: HeatMode, value: f64) -> String {
    let t = (value / 100.0).clamp(0.0, 1.0);
    let stops: &[(u8, u8, u8)] = match mode {
        HeatMode::Score | HeatMode::Status | HeatMode::Visibility => {
            &[(0xf8, 0x71, 0x71), (0xfc, 0xd3, 0x4d), (0x10, 0xb9, 0x81)]
        }
        HeatMode::Priority => &[(0xf5, 0xf3, 0xff), (0x7c, 0x3a, 0xed)],
        HeatMode::Gap => &[(0xff, 0xf1, 0xf2), (0xdc, 0x26, 0x26)],
    };
    let segments = (stops.len() - 1) as f64;
    let at = t * segments;
    let i = (at.floor() as usize).min(stops.len() - 2);
    let local = at - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * local).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// The gradient's stops as a Navigator layer names them (low to high).
pub fn gradient_stops(mode: HeatMode) -> Vec<String> {
    match mode {
        HeatMode::Priority | HeatMode::Gap => vec![gradient(mode, 0.0), gradient(mode, 100.0)],
        _ => vec![
            gradient(mode, 0.0),
            gradient(mode, 50.0),
            gradient(mode, 100.0),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_run_from_low_to_high() {
        assert_eq!(gradient(HeatMode::Score, 0.0), "#f87171");
        assert_eq!(gradient(HeatMode::Score, 50.0), "#fcd34d");
        assert_eq!(gradient(HeatMode::Score, 100.0), "#10b981");
        assert_eq!(gradient(HeatMode::Score, 150.0), "#10b981");
        assert_eq!(gradient(HeatMode::Gap, 100.0), "#dc2626");
        assert_eq!(gradient_stops(HeatMode::Priority).len(), 2);
        assert_eq!(gradient_stops(HeatMode::Score).len(), 3);
        for mode in HeatMode::ALL {
            assert_eq!(mode.as_str().parse::<HeatMode>(), Ok(mode));
        }
    }
}
