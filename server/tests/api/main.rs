#![recursion_limit = "256"]
//! HTTP integration tests: a real server, real SQLite and PostgreSQL.
mod common;

mod audit;
mod auth;
mod http_behaviour;
mod users;
