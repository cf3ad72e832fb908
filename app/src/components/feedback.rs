//! How errors and confirmations look, everywhere in the UI.
use crate::error::AppError;
use leptos::prelude::*;

/// Sets the HTTP status of the page being rendered on the server, so a forbidden or missing
/// page is a real 403/404 for crawlers, tests and scripts, not a 200 with an error message.
pub fn set_page_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(options), Ok(code)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        options.set_status(code);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// The outcome of the latest submission of a form, as an alert: errors in red, success in
/// green. Field errors are shown beside their fields by [`FieldError`] instead.
#[component]
pub fn ErrorAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|err| {
            view! {
                <div role="alert" class="alert-error mb-4 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
                    {err.detail()}
                </div>
            }
        })
    }
}

#[component]
pub fn SuccessAlert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|text| {
            view! {
                <div role="status" class="alert-success mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                    {text}
                </div>
            }
        })
    }
}

/// The message for one field of a failed submission, if any.
#[component]
pub fn FieldError(
    #[prop(into)] error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|err| err.fields().get(field).cloned())
            .map(|message| {
                view! {
                    <p class="field-error mt-1 text-xs text-red-700" data-field=field>{message}</p>
                }
            })
    }
}

/// The error of an action's latest result, ignoring successes.
pub fn action_error<T, V>(value: V) -> Signal<Option<AppError>>
where
    T: Clone + Send + Sync + 'static,
    V: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|result| result.err()))
}

pub const INPUT_CLASS: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";
pub const LABEL_CLASS: &str = "block text-sm font-medium text-slate-700";
pub const PRIMARY_BUTTON: &str = "inline-flex items-center justify-center rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 disabled:opacity-50";
pub const SECONDARY_BUTTON: &str = "inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50";
