//! Data-source visibility (DeTT&CT-style): which of ATT&CK's data components the team
//! collects, and how well; a technique's visibility is what its data components give.
use crate::domain::values::string_enum;

string_enum! {
    /// How good the collected data of a component is.
    #[derive(Default)]
    pub enum DataQuality ("data quality") {
        Low = "low" / "Low",
        #[default]
        Medium = "medium" / "Medium",
        High = "high" / "High",
    }
}

impl DataQuality {
    /// What a collected component of this quality gives, 0–1.
    pub fn value(self) -> f64 {
        match self {
            DataQuality::Low => 1.0 / 3.0,
            DataQuality::Medium => 2.0 / 3.0,
            DataQuality::High => 1.0,
        }
    }
}

/// Longest notes on a data component.
pub const NOTES_MAX: usize = 2_000;

/// A technique's visibility, 0–1, from its data components (collected, quality): the mean of
/// what each gives (nothing when not collected). `None` when it has none.
pub fn visibility(components: impl IntoIterator<Item = (bool, DataQuality)>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for (collected, quality) in components {
        if collected {
            sum += quality.value();
        }
        n += 1;
    }
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_is_the_mean_of_the_components() {
        assert_eq!(visibility([]), None);
        assert_eq!(visibility([(false, DataQuality::High)]), Some(0.0));
        assert_eq!(
            visibility([(true, DataQuality::High), (false, DataQuality::High)]),
            Some(0.5)
        );
        let v = visibility([(true, DataQuality::Low), (true, DataQuality::Medium)]).unwrap();
        assert!((v - 0.5).abs() < 1e-9);
        assert_eq!(DataQuality::default(), DataQuality::Medium);
    }
}
