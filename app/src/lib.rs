//! Aegis shared crate: domain rules, DTOs, server functions and the Leptos UI. Compiled for
//! the server (`ssr`) and for the browser (`hydrate`) so both enforce the same rules.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod domain;
pub mod dto;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

pub use app::{App, shell};
