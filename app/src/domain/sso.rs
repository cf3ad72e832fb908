//! Single sign-on rules: which Aegis role a provider's groups give (`AEGIS_OIDC_ROLE_MAP`),
//! who may still sign in with a password, and why a sign-in through the provider failed (what
//! the login page tells the person, and what the audit entry records).
use crate::domain::rbac::Role;
use crate::domain::values::string_enum;

/// Provider groups (or role names) to Aegis roles, in the order configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoleMap {
    entries: Vec<(String, Role)>,
}

/// The longest group name a mapping (and a claim) may hold.
pub const GROUP_MAX_LEN: usize = 256;
/// The most groups of one person looked at: a claim beyond this is cut, not refused.
pub const GROUPS_MAX: usize = 1000;

impl RoleMap {
    /// `group=role,group=role,…`; a group may be named twice (the higher role wins anyway), a
    /// role many times. Spaces around names are ignored; a group name may hold `=` (the role
    /// is after the last one) but not `,`.
    pub fn parse(raw: &str) -> Result<RoleMap, String> {
        let mut entries = Vec::new();
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (group, role) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("'{pair}' is not group=role"))?;
            let group = group.trim();
            if group.is_empty() {
                return Err(format!("'{pair}' names no group"));
            }
            if group.chars().count() > GROUP_MAX_LEN {
                return Err(format!(
                    "A group name is at most {GROUP_MAX_LEN} characters"
                ));
            }
            let role: Role = role.trim().parse().map_err(|e| format!("{e}"))?;
            entries.push((group.to_owned(), role));
        }
        if entries.is_empty() {
            return Err("Map at least one group to a role, e.g. aegis-admins=admin".into());
        }
        Ok(RoleMap { entries })
    }

    pub fn entries(&self) -> &[(String, Role)] {
        &self.entries
    }

    /// The role the groups give: the highest of the mapped ones (admin, then the leads, then
    /// the technicians, then viewer; between equals, the one mapped first), or `None` when no
    /// group is mapped.
    /// Group names compare exactly, as providers send them.
    pub fn resolve<S: AsRef<str>>(&self, groups: &[S]) -> Option<Role> {
        let held = |group: &str| groups.iter().take(GROUPS_MAX).any(|g| g.as_ref() == group);
        let mut best: Option<Role> = None;
        for (group, role) in &self.entries {
            if held(group) && best.is_none_or(|b| rank(*role) > rank(b)) {
                best = Some(*role);
            }
        }
        best
    }
}

/// How high a role stands: admin, then the two leads, then the two technicians, then viewer.
pub fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 4,
        Role::RedLead | Role::BlueLead => 3,
        Role::RedTech | Role::BlueTech => 2,
        Role::Viewer => 1,
    }
}

/// The username an account created at its first sign-in gets: the provider's
/// `preferred_username`, else the email's local part, else one made from the subject; reduced
/// to what usernames may hold (letters, digits, `.`, `_`, `-`; 3 to 64 characters).
pub fn username_for(preferred: Option<&str>, email: Option<&str>, subject: &str) -> String {
    let clean = |raw: &str| -> String {
        let mut out: String = raw
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        out.truncate(crate::domain::validation::USERNAME_MAX_LEN - 4);
        out.trim_matches('-').to_owned()
    };
    let local = email.and_then(|e| e.split('@').next());
    [preferred, local]
        .into_iter()
        .flatten()
        .map(clean)
        .find(|name| name.len() >= 3)
        .unwrap_or_else(|| {
            let tail: String = subject
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(12)
                .collect::<String>()
                .to_lowercase();
            format!("sso-{tail}")
        })
}

string_enum! {
    /// Who may sign in with a password (`AEGIS_PASSWORD_SIGN_IN`).
    #[derive(Default)]
    pub enum PasswordSignIn ("password sign-in") {
        #[default]
        Everyone = "everyone" / "Everyone with a password",
        BreakGlass = "break-glass" / "Only the break-glass admin",
    }
}

impl PasswordSignIn {
    /// Whether `username` (normalized), an account of `role`, may sign in with its password.
    pub fn allows(self, username: &str, role: Role, break_glass: &str) -> bool {
        match self {
            PasswordSignIn::Everyone => true,
            PasswordSignIn::BreakGlass => role == Role::Admin && username == break_glass,
        }
    }
}

string_enum! {
    /// Why a sign-in through the identity provider ended without a session. The wire form
    /// goes in the login page's `sso_error` and in the audit entry.
    pub enum SsoFailure ("sign-in failure") {
        NotConfigured = "not_configured" / "Single sign-on is not set up on this server.",
        ProviderUnreachable = "provider_unreachable" / "The identity provider could not be reached. Try again in a minute; if it keeps failing, tell an admin.",
        ProviderError = "provider_error" / "The identity provider did not sign you in (it refused or was cancelled).",
        BadState = "bad_state" / "This sign-in link is not valid any more (it was used already, it expired, or it was started in another browser). Start again.",
        ExchangeFailed = "exchange_failed" / "The identity provider did not accept the sign-in code (it may have expired). Start again.",
        InvalidToken = "invalid_token" / "The identity provider's answer could not be verified, so you were not signed in. Tell an admin.",
        NoRole = "no_role" / "Your account at the identity provider is in no group that has access to Aegis. Ask an admin to add you to one.",
        NoAccount = "no_account" / "There is no Aegis account for you yet. Ask an admin to create one.",
        AccountConflict = "account_conflict" / "Your Aegis account could not be set up. Try again; if it keeps failing, tell an admin.",
        RateLimited = "rate_limited" / "Too many sign-ins from your address just now. Wait a minute and try again.",
        Deactivated = "deactivated" / "Your Aegis account is deactivated.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> RoleMap {
        RoleMap::parse("aegis-admins=admin, red=red_tech,blue = blue_tech,red-leads=red_lead,blue-leads=blue_lead,all=viewer").unwrap()
    }

    #[test]
    fn the_highest_mapped_role_wins() {
        let map = map();
        assert_eq!(map.resolve(&["all", "red"]), Some(Role::RedTech));
        assert_eq!(
            map.resolve(&["red", "red-leads", "all"]),
            Some(Role::RedLead)
        );
        assert_eq!(
            map.resolve(&["all", "aegis-admins", "red"]),
            Some(Role::Admin)
        );
        assert_eq!(map.resolve(&["all"]), Some(Role::Viewer));
        assert_eq!(map.resolve(&["blue"]), Some(Role::BlueTech));
    }

    #[test]
    fn no_mapped_group_gives_no_role() {
        let map = map();
        assert_eq!(map.resolve::<&str>(&[]), None);
        assert_eq!(map.resolve(&["Red", "admins", "aegis-admins "]), None);
    }

    #[test]
    fn between_equal_roles_the_one_mapped_first_wins() {
        let map = map();
        assert_eq!(
            map.resolve(&["blue-leads", "red-leads"]),
            Some(Role::RedLead)
        );
        let reversed = RoleMap::parse("b=blue_lead,r=red_lead").unwrap();
        assert_eq!(reversed.resolve(&["r", "b"]), Some(Role::BlueLead));
    }

    #[test]
    fn ranks_order_the_roles() {
        assert!(rank(Role::Admin) > rank(Role::RedLead));
        assert!(rank(Role::RedLead) > rank(Role::RedTech));
        assert!(rank(Role::BlueTech) > rank(Role::Viewer));
        assert_eq!(rank(Role::RedLead), rank(Role::BlueLead));
    }

    #[test]
    fn bad_maps_are_refused_with_a_reason() {
        assert!(RoleMap::parse("").unwrap_err().contains("at least one"));
        assert!(RoleMap::parse("admins").unwrap_err().contains("group=role"));
        assert!(RoleMap::parse("=admin").unwrap_err().contains("no group"));
        assert!(
            RoleMap::parse("x=root")
                .unwrap_err()
                .contains("Unknown role")
        );
        // A group name may itself hold '=': the role is after the last one.
        let map = RoleMap::parse("cn=aegis=admin").unwrap();
        assert_eq!(map.resolve(&["cn=aegis"]), Some(Role::Admin));
    }

    #[test]
    fn only_the_break_glass_admin_keeps_a_password_when_turned_off() {
        let off = PasswordSignIn::BreakGlass;
        assert!(off.allows("admin", Role::Admin, "admin"));
        assert!(!off.allows("alice", Role::Admin, "admin"));
        assert!(!off.allows("admin", Role::Viewer, "admin"));
        assert!(PasswordSignIn::Everyone.allows("alice", Role::RedTech, "admin"));
        assert_eq!("break-glass".parse(), Ok(PasswordSignIn::BreakGlass));
    }

    #[test]
    fn usernames_for_new_accounts_are_valid_usernames() {
        assert_eq!(username_for(Some("Alice.Smith"), None, "x"), "alice.smith");
        assert_eq!(
            username_for(Some("al"), Some("alice@example.org"), "x"),
            "alice"
        );
        assert_eq!(
            username_for(Some("Ünïcode Name"), None, "x"),
            "-n-code-name".trim_matches('-')
        );
        assert_eq!(
            username_for(None, None, "a1b2-c3d4-e5f6-g7h8"),
            "sso-a1b2c3d4e5f6"
        );
        let long = "a".repeat(300);
        assert!(username_for(Some(&long), None, "x").len() <= 60);
        for name in [
            username_for(Some("Ünïcode Name"), None, "x"),
            username_for(None, Some("@x"), "sub"),
        ] {
            let mut errors = crate::error::FieldErrors::new();
            crate::domain::validation::check_username(&name, &mut errors);
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
    }

    #[test]
    fn failures_read_back_from_their_wire_form() {
        for failure in SsoFailure::ALL {
            assert_eq!(failure.as_str().parse(), Ok(failure));
            assert!(failure.label().ends_with('.'));
        }
    }
}
