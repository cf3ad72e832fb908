//! Reusable UI pieces: the page frame, guards and form feedback.
pub mod coverage;
pub mod evidence;
pub mod feedback;
pub mod layout;
pub mod markdown;
pub mod test_state;
