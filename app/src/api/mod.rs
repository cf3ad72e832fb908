//! Server functions: public HTTP endpoints used by the UI. Each one reads the caller from the
//! request context, checks a permission, calls a service and maps the result.
pub mod admin;
pub mod campaigns;
pub mod catalog;
pub mod detection;
#[cfg(feature = "ssr")]
pub(crate) mod form;
pub mod intel;
pub mod jobs;
pub mod knowledge;
pub mod notifications;
pub mod reporting;
pub mod scoring;
pub mod workflow;

/// Sets the HTTP status of a failed server function call, so the browser sees a real 4xx.
/// Plain form posts (no JavaScript yet) keep the framework's redirect back to the form, which
/// carries the error in the URL.
#[cfg(feature = "ssr")]
pub(crate) fn respond<T>(result: crate::error::AppResult<T>) -> crate::error::AppResult<T> {
    if let Err(err) = &result {
        if let crate::error::AppError::Internal(message) = err {
            tracing::error!(error = %message, "server function failed");
        }
        if !is_plain_form_post()
            && let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(err.status())
        {
            options.set_status(status);
        }
    }
    result
}

/// A browser submitting a form without JavaScript asks for HTML back.
#[cfg(feature = "ssr")]
pub(crate) fn is_plain_form_post() -> bool {
    leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Only a same-site path is allowed as a post-login destination: it starts with one `/`, and
/// holds no control characters, whitespace or backslashes (browsers strip or rewrite those,
/// so `/\t/evil.example` would become `//evil.example`). Anything else goes to the dashboard.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.len() <= 2048
                && !path
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_paths_stay_on_site() {
        assert_eq!(super::safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(super::safe_next(Some("//evil.example")), "/");
        assert_eq!(super::safe_next(Some("https://evil.example")), "/");
        assert_eq!(super::safe_next(Some("/\\evil.example")), "/");
        assert_eq!(super::safe_next(None), "/");
        assert_eq!(super::safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(super::safe_next(Some("/\n")), "/");
        assert_eq!(super::safe_next(Some("/ /evil.example")), "/");
        assert_eq!(super::safe_next(Some("/a\\b")), "/");
        assert_eq!(super::safe_next(Some("/\u{2028}x")), "/");
        assert_eq!(
            super::safe_next(Some("/tests?state=draft")),
            "/tests?state=draft"
        );
    }
}
