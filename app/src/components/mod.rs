//! Reusable UI pieces: the page frame, guards and form feedback.
pub mod api_tokens;
pub mod auth;
pub mod charts;
pub mod coverage;
pub mod evidence;
pub mod feedback;
pub mod form;
pub mod icons;
pub mod intel;
pub mod layout;
pub mod links;
pub mod markdown;
pub mod paging;
pub mod test_state;
