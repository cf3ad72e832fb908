//! The one rule for page sizes: 1 to `MAX_PAGE_SIZE`, a per-list default, offset from 0.
use crate::dto::MAX_PAGE_SIZE;
use crate::error::{AppError, AppResult};

pub fn page_bounds(limit: Option<u64>, offset: Option<u64>, default: u64) -> AppResult<(u64, u64)> {
    let limit = limit.unwrap_or(default);
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(AppError::field(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    Ok((limit, offset.unwrap_or(0)))
}
