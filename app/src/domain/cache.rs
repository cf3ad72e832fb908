//! Which cached answers a change makes stale. Read answers that many people ask for and few
//! changes touch (the matrix, the technique list, the dashboard's figures) are cached behind a
//! version per [`CacheScope`], kept in the database so every server process sees it. Every
//! change is audited in its own transaction, so the audit writer bumps the scopes its action
//! names here, in that transaction: the answer a reader gets is never older than the last
//! commit it could see.
use crate::domain::audit::AuditAction;
use crate::domain::values::string_enum;

string_enum! {
    /// A group of data that cached answers depend on.
    pub enum CacheScope ("cache scope") {
        /// Tactics, techniques (their coverage and review flags), threat actors, technique sets.
        Knowledge = "knowledge" / "ATT&CK knowledge base",
        /// Tests, their evidence, votes and remediation, what is derived from them (the
        /// coverage of each technique, the test counts, the activity figures), and the people
        /// named in them.
        Tests = "tests" / "Tests",
        /// The weekly coverage snapshots.
        Snapshots = "snapshots" / "Coverage snapshots",
        /// The scoring configuration and what is computed from it outside a test's change
        /// (the recompute job, data-component collection).
        Scores = "scores" / "Technique scores",
    }
}

/// The scopes an audited change makes stale.
pub fn changed_by(action: AuditAction) -> &'static [CacheScope] {
    use AuditAction::*;
    match action {
        AuthLogin | AuthLoginFailed | AuthLogout | AuthSsoFailed | UserPasswordChange
        | UserSsoLink | ApiTokenCreate | ApiTokenRevoke => &[],
        // Names and roles appear in test lists and in the activity figures.
        UserCreate | UserUpdate | UserSsoRole => &[CacheScope::Tests],
        // A sync can mark techniques for review and change coverage.
        AttackImport | TechniqueCreate | TechniqueUpdate | TechniqueReview | TechniqueSetImport
        | TechniqueSetDelete => &[CacheScope::Knowledge],
        TemplatesImport
        | TemplateCreate
        | TemplateUpdate
        | TemplateActivate
        | TemplateDeactivate
        | GtfobinsMappingUpdate => &[],
        JobRun | EvidenceIntegrityFailure => &[],
        WebhookCreate | WebhookUpdate | WebhookDelete | WebhookPing => &[],
        ScoringConfigUpdate | ScoringConfigRestore => &[CacheScope::Scores],
        // Visibility is shown on the matrix and feeds the scores.
        DataComponentUpdate => &[CacheScope::Knowledge, CacheScope::Scores],
        ComplianceImport => &[CacheScope::Knowledge],
        // Tests join and leave campaigns; lists, dashboards and reports filter by them.
        CampaignCreate | CampaignUpdate | CampaignTestsAdd | CampaignTestRemove
        | CampaignGenerate | CampaignComplete | CampaignSpawn => &[CacheScope::Tests],
        IntelFeedCreate | IntelFeedUpdate | IntelFeedDelete => &[],
        // The matrix can show the techniques with (proven) rules.
        // Technique pages show their countermeasures.
        D3fendImport => &[CacheScope::Knowledge],
        DetectionRulesImport | DetectionRuleCreate | DetectionRuleUpdate => {
            &[CacheScope::Knowledge]
        }
        // The matrix can show the techniques intel mentioned lately (dismissed items aside).
        IntelScan | IntelItemUpdate => &[CacheScope::Knowledge],
        // A technique's coverage is derived from its tests: it is part of `Tests`.
        TestCreate
        | TestUpdate
        | TestRedUpdate
        | TestBlueUpdate
        | TestRemediationUpdate
        | TestTransition
        | TestVote
        | TestTimerPause
        | TestTimerResume
        | EvidenceUpload
        | WorklogCreate
        | WorklogUpdate
        | WorklogDelete => &[CacheScope::Tests],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_change_makes_test_answers_stale() {
        for action in AuditAction::ALL {
            if action.as_str().starts_with("test.") || action == AuditAction::EvidenceUpload {
                assert_eq!(changed_by(action), &[CacheScope::Tests], "{action}");
            }
        }
    }

    #[test]
    fn knowledge_changes_touch_only_the_knowledge_base() {
        for action in [
            AuditAction::AttackImport,
            AuditAction::TechniqueCreate,
            AuditAction::TechniqueSetImport,
            AuditAction::TechniqueSetDelete,
        ] {
            assert_eq!(changed_by(action), &[CacheScope::Knowledge]);
        }
    }

    #[test]
    fn signing_in_changes_nothing_cached() {
        assert!(changed_by(AuditAction::AuthLogin).is_empty());
        assert!(changed_by(AuditAction::TemplateCreate).is_empty());
    }
}
