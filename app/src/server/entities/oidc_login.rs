use sea_orm::entity::prelude::*;

/// A single sign-on under way: kept from the redirect to the provider until its callback (or
/// for a few minutes), keyed by the SHA-256 of the `state` sent along.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where the browser goes once signed in (a local path).
    pub next_path: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
