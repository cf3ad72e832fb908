//! Reusable UI pieces: the page frame, guards and form feedback.
pub mod feedback;
pub mod layout;
