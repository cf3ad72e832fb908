//! Control frameworks mapped onto ATT&CK (NIST SP 800-53, CSA CCM, any framework in the
//! Center for Threat-Informed Defense's mapping schema): how control ids are compared, and
//! what a control's mapped techniques say about it.
use crate::domain::coverage::CoverageStatus;

/// Longest control id, name and family kept.
pub const CONTROL_ID_MAX: usize = 64;
pub const CONTROL_NAME_MAX: usize = 500;
pub const FAMILY_MAX: usize = 200;

/// A control id as stored: trimmed and upper case; NIST SP 800-53's ids (a two-letter family)
/// also lose the padding of their number (`AC-02` → `AC-2`, `ac-2` → `AC-2`; `AC-2(1)` keeps
/// its enhancement). The CTID JSON pads them, NIST's catalogue and the older TSV do not; other
/// frameworks keep their own form (CSA CCM writes `A&A-01`).
pub fn control_id(raw: &str) -> String {
    let id = raw.trim().to_uppercase();
    let Some((family, rest)) = id.rsplit_once('-') else {
        return id;
    };
    if family.len() != 2 || !family.bytes().all(|b| b.is_ascii_alphabetic()) {
        return id;
    }
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return id;
    }
    let tail = &rest[digits.len()..];
    let number = digits.trim_start_matches('0');
    let number = if number.is_empty() { "0" } else { number };
    format!("{family}-{number}{tail}")
}

/// The family of a control id: what precedes its last `-` (`AC-2` → `AC`).
pub fn family_of(id: &str) -> String {
    id.rsplit_once('-')
        .map_or_else(|| id.to_owned(), |(family, _)| family.to_owned())
}

/// Orders control ids as people read them: by family, then by number (`AC-2` before `AC-10`).
pub fn control_order(id: &str) -> (String, u32, String) {
    let (family, rest) = id.rsplit_once('-').unwrap_or((id, ""));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (
        family.to_owned(),
        digits.parse().unwrap_or(u32::MAX),
        rest[digits.len()..].to_owned(),
    )
}

/// How people name a framework from its key in the mapping files (`nist_800_53`).
pub fn framework_name(key: &str) -> String {
    match key {
        "nist_800_53" => "NIST SP 800-53".into(),
        "csa_ccm" => "CSA Cloud Controls Matrix".into(),
        "cis_controls" => "CIS Critical Security Controls".into(),
        "cri_profile" => "CRI Profile".into(),
        "veris" => "VERIS".into(),
        "kev" => "CISA Known Exploited Vulnerabilities".into(),
        other => other
            .split(['_', '-'])
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut chars = w.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_uppercase().chain(chars).collect::<String>()
                })
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// What the techniques mapped to a control (or a family, or a framework) say.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    pub techniques: u32,
    pub validated: u32,
    pub partial: u32,
    pub in_progress: u32,
    pub not_covered: u32,
    /// Sum of the techniques' scores, for the mean.
    pub score_sum: f64,
}

impl Figures {
    pub fn add(&mut self, status: CoverageStatus, score: f64) {
        self.techniques += 1;
        self.score_sum += score;
        match status {
            CoverageStatus::Validated => self.validated += 1,
            CoverageStatus::Partial => self.partial += 1,
            CoverageStatus::InProgress => self.in_progress += 1,
            CoverageStatus::NotCovered => self.not_covered += 1,
        }
    }

    /// Validated techniques as a share of the mapped ones, in percent with one decimal; 0 for
    /// a control with no mapped technique.
    pub fn coverage_percent(&self) -> f64 {
        if self.techniques == 0 {
            0.0
        } else {
            (f64::from(self.validated) * 1000.0 / f64::from(self.techniques)).round() / 10.0
        }
    }

    /// The mean score of the mapped techniques, one decimal.
    pub fn mean_score(&self) -> f64 {
        if self.techniques == 0 {
            0.0
        } else {
            (self.score_sum * 10.0 / f64::from(self.techniques)).round() / 10.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_ids_are_unpadded_and_upper_case() {
        assert_eq!(control_id("AC-02"), "AC-2");
        assert_eq!(control_id(" ac-2 "), "AC-2");
        assert_eq!(control_id("AC-10"), "AC-10");
        assert_eq!(control_id("SI-00"), "SI-0");
        assert_eq!(control_id("AC-02(01)"), "AC-2(01)");
        assert_eq!(control_id("A&A-01"), "A&A-01");
        assert_eq!(control_id("ais-01"), "AIS-01");
        assert_eq!(control_id("IAM-16"), "IAM-16");
        assert_eq!(control_id("DSP"), "DSP");
        assert_eq!(control_id("AC-X"), "AC-X");
        assert_eq!(framework_name("nist_800_53"), "NIST SP 800-53");
        assert_eq!(framework_name("aws_cloud"), "Aws Cloud");
        assert_eq!(family_of("AC-2"), "AC");
        assert_eq!(family_of("A&A-1"), "A&A");
        let mut ids = vec!["AC-10", "AC-2", "AC-1", "CM-3"];
        ids.sort_by_key(|id| control_order(id));
        assert_eq!(ids, ["AC-1", "AC-2", "AC-10", "CM-3"]);
    }

    #[test]
    fn figures_count_and_average() {
        let mut f = Figures::default();
        assert_eq!(f.coverage_percent(), 0.0);
        assert_eq!(f.mean_score(), 0.0);
        f.add(CoverageStatus::Validated, 80.0);
        f.add(CoverageStatus::Partial, 40.0);
        f.add(CoverageStatus::NotCovered, 0.0);
        assert_eq!(f.techniques, 3);
        assert_eq!(f.coverage_percent(), 33.3);
        assert_eq!(f.mean_score(), 40.0);
    }
}
