//! Services own the rules and the transactions. Each mutation writes its audit entry in the
//! same transaction as the change.
pub mod audit;
pub mod knowledge;
pub mod passwords;
pub mod sessions;
pub mod tokens;
pub mod users;
