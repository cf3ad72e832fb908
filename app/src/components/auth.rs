//! The signed-in user's context: loaded once per page by `App`, read by every component
//! below the router.
use crate::dto::admin::auth::UserProfile;
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in user, loaded once per page and shared by every component below the router.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub user: Resource<Result<Option<UserProfile>, AppError>>,
}

pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}
