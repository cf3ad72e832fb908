//! The seeder's word lists and weights: what the generated tests, people and evidence are
//! made of.
use app::domain::values::{DetectionResult, RemediationStatus, Severity};
use app::domain::workflow::TestState;

/// Weights of detected, partial and not detected, per kind of technique: well seen by the
/// blue team's tooling, poorly seen, unseen.
pub(super) const WELL_SEEN: [u32; 3] = [75, 15, 10];
pub(super) const POORLY_SEEN: [u32; 3] = [20, 30, 50];
pub(super) const UNSEEN: [u32; 3] = [0, 25, 75];
/// The detection results, in the order of the weights above.
pub(super) const DETECTIONS: [DetectionResult; 3] = [
    DetectionResult::Detected,
    DetectionResult::Partial,
    DetectionResult::NotDetected,
];

/// The seeded users' display names are drawn from these.
pub(super) const FIRST_NAMES: [&str; 20] = [
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Drew", "Robin", "Charlie", "Frankie", "Hayden", "Kai", "Logan", "Parker", "Reese", "Rowan",
];
pub(super) const LAST_NAMES: [&str; 20] = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Roux", "Fournier", "Girard",
    "Bonnet", "Dupont",
];

/// The states of the seeded tests, and how often each is drawn.
pub(super) const STATE_MIX: [TestState; 6] = [
    TestState::Draft,
    TestState::RedExecuting,
    TestState::BlueEvaluating,
    TestState::InReview,
    TestState::Validated,
    TestState::Rejected,
];
pub(super) const STATE_WEIGHTS: [u32; 6] = [10, 10, 10, 10, 50, 10];
pub(super) const SEVERITIES: [Severity; 4] = Severity::ALL;
pub(super) const SEVERITY_WEIGHTS: [u32; 4] = [15, 40, 30, 15];
pub(super) const VARIANTS: [&str; 10] = [
    "baseline execution",
    "obfuscated variant",
    "living-off-the-land variant",
    "as a standard user",
    "with elevated privileges",
    "over a C2 channel",
    "chained, \"low and slow\"",
    "retest after detection tuning",
    "from the threat-intel report",
    "purple-team exercise",
];
pub(super) const TOOLS: [&str; 11] = [
    "Atomic Red Team",
    "Cobalt Strike",
    "Metasploit",
    "Sliver",
    "Mimikatz",
    "Impacket",
    "PowerShell",
    "BloodHound",
    "Rubeus",
    "CrackMapExec",
    "custom script",
];
pub(super) const ENVIRONMENTS: [&str; 4] = [
    "Lab domain LAB.LOCAL",
    "Staging",
    "Production, approved change window",
    "Cloud sandbox account",
];
pub(super) const ALERTS: [&str; 8] = [
    "EDR: Suspicious process chain",
    "SIEM: Encoded PowerShell command line",
    "Sigma: Credential dumping via LSASS access",
    "NDR: Beaconing to a rare domain",
    "EDR: Persistence via Run key",
    "SIEM: Multiple failed logons, then success",
    "Sigma: Suspicious scheduled task creation",
    "Cloud: Unusual API calls from a new location",
];
pub(super) const RESPONSES: [&str; 5] = [
    "Host isolated",
    "Ticket opened with the SOC",
    "No action (announced test)",
    "Account disabled",
    "Process killed by EDR",
];
pub(super) const EVIDENCE_FILES: [(&str, &str); 6] = [
    ("screenshot.png", "image/png"),
    ("edr-alert.json", "application/json"),
    ("capture.pcapng", "application/octet-stream"),
    ("command-output.txt", "text/plain"),
    ("sysmon-events.evtx", "application/octet-stream"),
    ("siem-export.csv", "text/csv"),
];
pub(super) const REMEDIATION_STATUSES: [RemediationStatus; 4] = RemediationStatus::ALL;
pub(super) const REMEDIATION_STEPS: [&str; 6] = [
    "Write a detection rule for the observed behaviour",
    "Enable the missing log source",
    "Tune the existing rule's threshold",
    "Add the rule to the SOC runbook",
    "Retest after deployment",
    "Harden the affected configuration",
];
