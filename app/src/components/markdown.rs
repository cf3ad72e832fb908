//! ATT&CK descriptions are Markdown written by others: rendered to HTML with raw HTML shown as
//! text and only web links kept, so a description can never inject script into the page.
use leptos::prelude::*;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

pub fn render_markdown(source: &str) -> String {
    let source = strip_citations(source);
    let events = Parser::new_ext(
        &source,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    if crate::domain::validation::is_safe_link(&url) {
        url
    } else {
        CowStr::from("#")
    }
}

/// ATT&CK text cites sources as `(Citation: Name)`; the references live on attack.mitre.org.
fn strip_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("(Citation:") {
        out.push_str(rest[..start].trim_end_matches(' '));
        match rest[start..].find(')') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[component]
pub fn Markdown(#[prop(into)] source: String) -> impl IntoView {
    view! { <div class="prose-aegis space-y-3 text-sm leading-relaxed text-slate-700" inner_html=render_markdown(&source)></div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown_and_neutralises_html_and_script_links() {
        let html = render_markdown(
            "Uses **PowerShell**.<script>alert(1)</script> [x](javascript:alert(1)) [ok](https://attack.mitre.org/techniques/T1059)",
        );
        assert!(html.contains("<strong>PowerShell</strong>"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("javascript:"));
        assert!(html.contains(r#"href="https://attack.mitre.org/techniques/T1059""#));
    }

    #[test]
    fn citations_are_removed() {
        assert_eq!(
            strip_citations("Adversaries run code.(Citation: A) More (Citation: B)."),
            "Adversaries run code. More."
        );
        assert_eq!(strip_citations("Broken (Citation: x"), "Broken");
    }
}
