//! Who may do what: the one permission module. The server asks it before every action (it is
//! the authority); the UI asks it to decide what to show. Rules that also depend on a test's
//! state live in the workflow module and build on these.
use crate::domain::values::string_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Role {
    Admin,
    RedTech,
    BlueTech,
    RedLead,
    BlueLead,
    Viewer,
}

string_enum! {
    /// The two sides of a test.
    pub enum Team ("team") {
        Red = "red" / "Red",
        Blue = "blue" / "Blue",
    }
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::RedTech,
        Role::BlueTech,
        Role::RedLead,
        Role::BlueLead,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::RedTech => "red_tech",
            Role::BlueTech => "blue_tech",
            Role::RedLead => "red_lead",
            Role::BlueLead => "blue_lead",
            Role::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::RedTech => "Red Team Technician",
            Role::BlueTech => "Blue Team Technician",
            Role::RedLead => "Red Team Lead",
            Role::BlueLead => "Blue Team Lead",
            Role::Viewer => "Viewer",
        }
    }

    /// The team a role belongs to; admin and viewer belong to none.
    pub fn team(self) -> Option<Team> {
        match self {
            Role::RedTech | Role::RedLead => Some(Team::Red),
            Role::BlueTech | Role::BlueLead => Some(Team::Blue),
            Role::Admin | Role::Viewer => None,
        }
    }

    pub fn is_lead(self) -> bool {
        matches!(self, Role::RedLead | Role::BlueLead)
    }

    pub fn can(self, permission: Permission) -> bool {
        allowed(self, permission)
    }

    /// Whether `self` may do nothing `other` may not: an API token may carry a role within
    /// its user's (a lead's token as a tech of the same team, anyone's as a viewer).
    pub fn within(self, other: Role) -> bool {
        Permission::ALL
            .into_iter()
            .all(|permission| !self.can(permission) || other.can(permission))
            && (self.team().is_none() || self.team() == other.team() || other == Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Unknown role '{}'; expected one of: admin, red_tech, blue_tech, red_lead, blue_lead, viewer",
            self.0
        )
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Role-level capabilities. State-dependent rules (what a role may do to a test in a given
/// state) refine these in the workflow module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read techniques, tests, evidence, reports, metrics.
    ViewData,
    /// Own profile and password.
    ManageOwnAccount,
    /// Create, edit, deactivate users and reset their passwords.
    ManageUsers,
    /// Read the audit log.
    ViewAuditLog,
    /// Sync ATT&CK, run imports, watch and trigger jobs.
    ManageSystem,
    /// Create custom techniques and edit local technique fields.
    ManageTechniques,
    /// Clear a technique's `review_required` flag.
    ReviewTechniques,
    /// Create, edit and (de)activate test templates.
    ManageTemplates,
    /// Pause and resume a test's execution timer.
    ControlTimer,
    /// Edit remediation plans and their steps.
    ManageRemediation,
    /// Import and delete technique sets (ATT&CK Navigator layers).
    ManageTechniqueSets,
    /// Triage threat-intel items (relevant, dismissed, notes).
    TriageIntel,
    /// Write custom detection rules and the local fields (notes, active) of any rule.
    ManageDetectionRules,
    /// Create and change campaigns, their tests and recurrence.
    ManageCampaigns,
    /// Mark which data components the team collects, and how well (the blue team's
    /// telemetry).
    ManageDataSources,
    /// Change the scoring weights, half-life and relevant actors.
    ManageScoring,
}

impl Permission {
    pub const ALL: [Permission; 16] = [
        Permission::ViewData,
        Permission::ManageOwnAccount,
        Permission::ManageUsers,
        Permission::ViewAuditLog,
        Permission::ManageSystem,
        Permission::ManageTechniques,
        Permission::ReviewTechniques,
        Permission::ManageTemplates,
        Permission::ControlTimer,
        Permission::ManageRemediation,
        Permission::ManageTechniqueSets,
        Permission::TriageIntel,
        Permission::ManageDetectionRules,
        Permission::ManageCampaigns,
        Permission::ManageDataSources,
        Permission::ManageScoring,
    ];
}

fn allowed(role: Role, permission: Permission) -> bool {
    use Permission::*;
    if role == Role::Admin {
        return true;
    }
    match permission {
        ViewData | ManageOwnAccount => true,
        ManageUsers | ViewAuditLog | ManageSystem | ManageTechniques | ManageTemplates
        | ManageScoring => false,
        ReviewTechniques | ManageRemediation | ManageTechniqueSets | TriageIntel
        | ManageCampaigns => role.is_lead(),
        ControlTimer => role != Role::Viewer,
        ManageDetectionRules => role == Role::BlueLead,
        ManageDataSources => matches!(role, Role::BlueLead | Role::BlueTech),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full role × permission table, written out by hand so that a change to `allowed`
    /// must be mirrored here on purpose.
    fn expected(role: Role, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        let table: &[(Permission, &[Role])] = &[
            (
                ViewData,
                &[Admin, RedTech, BlueTech, RedLead, BlueLead, Viewer],
            ),
            (
                ManageOwnAccount,
                &[Admin, RedTech, BlueTech, RedLead, BlueLead, Viewer],
            ),
            (ManageUsers, &[Admin]),
            (ViewAuditLog, &[Admin]),
            (ManageSystem, &[Admin]),
            (ManageTechniques, &[Admin]),
            (ReviewTechniques, &[Admin, RedLead, BlueLead]),
            (ManageTemplates, &[Admin]),
            (ControlTimer, &[Admin, RedTech, BlueTech, RedLead, BlueLead]),
            (ManageRemediation, &[Admin, RedLead, BlueLead]),
            (ManageTechniqueSets, &[Admin, RedLead, BlueLead]),
            (TriageIntel, &[Admin, RedLead, BlueLead]),
            (ManageDetectionRules, &[Admin, BlueLead]),
            (ManageCampaigns, &[Admin, RedLead, BlueLead]),
            (ManageDataSources, &[Admin, BlueLead, BlueTech]),
            (ManageScoring, &[Admin]),
        ];
        table
            .iter()
            .find(|(p, _)| *p == permission)
            .map(|(_, roles)| roles.contains(&role))
            .unwrap_or_else(|| panic!("permission {permission:?} missing from the expected table"))
    }

    #[test]
    fn every_role_and_permission_matches_the_table() {
        for role in Role::ALL {
            for permission in Permission::ALL {
                assert_eq!(
                    role.can(permission),
                    expected(role, permission),
                    "{role} / {permission:?}"
                );
            }
        }
    }

    #[test]
    fn admin_can_do_everything_and_viewer_only_reads() {
        assert!(Permission::ALL.iter().all(|p| Role::Admin.can(*p)));
        let viewer: Vec<_> = Permission::ALL
            .iter()
            .filter(|p| Role::Viewer.can(**p))
            .collect();
        assert_eq!(
            viewer,
            vec![&Permission::ViewData, &Permission::ManageOwnAccount]
        );
    }

    #[test]
    fn roles_round_trip_through_strings_and_serde() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        let err = "superuser".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("superuser"));
        assert!(
            "Admin".parse::<Role>().is_err(),
            "role names are case-sensitive"
        );
    }

    #[test]
    fn teams() {
        assert_eq!(Role::RedTech.team(), Some(Team::Red));
        assert_eq!(Role::RedLead.team(), Some(Team::Red));
        assert_eq!(Role::BlueTech.team(), Some(Team::Blue));
        assert_eq!(Role::BlueLead.team(), Some(Team::Blue));
        assert_eq!(Role::Admin.team(), None);
        assert_eq!(Role::Viewer.team(), None);
    }

    #[test]
    fn a_token_role_stays_within_its_user_role() {
        for role in Role::ALL {
            assert!(role.within(role), "{role}");
            assert!(
                Role::Viewer.within(role),
                "anyone's token may be a viewer's"
            );
            assert!(role.within(Role::Admin), "an admin's token may be any role");
        }
        assert!(Role::RedTech.within(Role::RedLead));
        assert!(Role::BlueTech.within(Role::BlueLead));
        assert!(!Role::BlueTech.within(Role::RedLead), "not the other team");
        assert!(!Role::RedLead.within(Role::RedTech), "not higher");
        assert!(!Role::Admin.within(Role::BlueLead));
        assert!(!Role::RedTech.within(Role::Viewer));
    }
}
