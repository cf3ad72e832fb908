//! The browser build under `/pkg`, served compressed and cached well.
//!
//! At start the server hashes the site's JavaScript and WASM and hands the hashes to Leptos
//! (through its hash file), so every page links `/pkg/aegis.<hash>.js` and
//! `/pkg/aegis.<hash>.wasm`. Those names change with their content, so they are sent as
//! `immutable` for a year: a returning browser loads nothing again until a new release. A
//! hashed name whose hash is not the current one is a 404 rather than other content under an
//! immutable name. Everything else under `/pkg` (the stylesheet, the wasm-bindgen snippets)
//! is sent with `no-cache`, so it is revalidated (`ETag`/`Last-Modified` → `304`).
//! Files are sent precompressed (`.br`, `.gz` next to them, as `cargo leptos build --release
//! --precompress` writes them) when the browser accepts it, and compressed on the fly
//! otherwise (the router's compression layer).
use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, VARY};
use http::{HeaderValue, StatusCode, Uri};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeDir;

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The hashed browser build of one site root.
#[derive(Debug, Clone)]
pub struct SiteAssets {
    pkg: PathBuf,
    /// `(served name, file on disk)`, e.g. `("aegis.1f2e….js", "aegis.js")`.
    hashed: Vec<(String, String)>,
    /// The hash file Leptos reads, when the build was found.
    pub hash_file: Option<PathBuf>,
}

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))[..20].to_owned()
}

impl SiteAssets {
    /// Hashes `<site_root>/<pkg>/<output>.js` and its WASM (`<output>.wasm`, or wasm-bindgen's
    /// `<output>_bg.wasm`) and writes the hash file for Leptos into `state_dir`. Without a
    /// browser build (API-only tests), pages link the plain names.
    pub fn load(site_root: &Path, output: &str, state_dir: &Path) -> Self {
        let pkg = site_root.join("pkg");
        let js = format!("{output}.js");
        let wasm = [format!("{output}.wasm"), format!("{output}_bg.wasm")]
            .into_iter()
            .find(|name| pkg.join(name).is_file());
        let (Ok(js_bytes), Some(wasm)) = (std::fs::read(pkg.join(&js)), wasm) else {
            return Self {
                pkg,
                hashed: Vec::new(),
                hash_file: None,
            };
        };
        let Ok(wasm_bytes) = std::fs::read(pkg.join(&wasm)) else {
            return Self {
                pkg,
                hashed: Vec::new(),
                hash_file: None,
            };
        };
        let (js_hash, wasm_hash) = (short_hash(&js_bytes), short_hash(&wasm_bytes));
        let hashed = vec![
            (format!("{output}.{js_hash}.js"), js),
            (format!("{output}.{wasm_hash}.wasm"), wasm),
        ];
        let hash_file = state_dir.join("site-hashes.txt");
        let written = std::fs::write(&hash_file, format!("js: {js_hash}\nwasm: {wasm_hash}\n"));
        if let Err(e) = &written {
            tracing::warn!(error = %e, path = %hash_file.display(), "cannot write the asset hash file; serving unhashed names");
        }
        Self {
            pkg,
            hash_file: written.ok().map(|()| hash_file),
            hashed,
        }
    }

    /// The file on disk behind a served name, and whether that name is a hashed one. A name
    /// shaped like a hashed one whose hash is not current is `Err`.
    fn resolve(&self, name: &str) -> Result<(String, bool), ()> {
        if let Some((_, file)) = self.hashed.iter().find(|(served, _)| served == name) {
            return Ok((file.clone(), true));
        }
        let stale = self.hashed.iter().any(|(served, file)| {
            let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
            let stem = stem.trim_end_matches("_bg");
            served != name
                && name.starts_with(&format!("{stem}."))
                && name.ends_with(&format!(".{ext}"))
                && name.len() == served.len()
        });
        if stale {
            return Err(());
        }
        Ok((name.to_owned(), false))
    }
}

/// `GET /pkg/{*file}`.
pub async fn serve(
    State(assets): State<Arc<SiteAssets>>,
    UrlPath(file): UrlPath<String>,
    request: Request,
) -> Response {
    let Ok((on_disk, hashed)) = assets.resolve(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (mut parts, body) = request.into_parts();
    parts.uri = match format!("/{on_disk}").parse::<Uri>() {
        Ok(uri) => uri,
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    let files = ServeDir::new(&assets.pkg)
        .precompressed_br()
        .precompressed_gzip();
    let mut response = match files.oneshot(Request::from_parts(parts, body)).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, if hashed { IMMUTABLE } else { REVALIDATE });
        // The same name is sent as Brotli, gzip or plain: a shared cache must keep them apart.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn site() -> (tempdir::Dir, SiteAssets) {
        let dir = tempdir::Dir::new();
        let pkg = dir.path().join("site/pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("aegis.js"), b"js").unwrap();
        std::fs::write(pkg.join("aegis.wasm"), b"wasm").unwrap();
        let assets = SiteAssets::load(&dir.path().join("site"), "aegis", dir.path());
        (dir, assets)
    }

    mod tempdir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                let path =
                    std::env::temp_dir().join(format!("aegis-assets-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&path).unwrap();
                Self(path)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn the_build_is_hashed_and_the_hash_file_written() {
        let (dir, assets) = site();
        let hashes = std::fs::read_to_string(dir.path().join("site-hashes.txt")).unwrap();
        let js = short_hash(b"js");
        let wasm = short_hash(b"wasm");
        assert_eq!(hashes, format!("js: {js}\nwasm: {wasm}\n"));
        assert_eq!(
            assets.resolve(&format!("aegis.{js}.js")),
            Ok(("aegis.js".to_owned(), true))
        );
        assert_eq!(
            assets.resolve(&format!("aegis.{wasm}.wasm")),
            Ok(("aegis.wasm".to_owned(), true))
        );
    }

    #[test]
    fn other_files_are_plain_and_stale_hashes_are_refused() {
        let (_dir, assets) = site();
        assert_eq!(
            assets.resolve("aegis.css"),
            Ok(("aegis.css".to_owned(), false))
        );
        assert_eq!(
            assets.resolve("aegis.js"),
            Ok(("aegis.js".to_owned(), false))
        );
        assert_eq!(assets.resolve("aegis.00000000000000000000.js"), Err(()));
        assert_eq!(assets.resolve("aegis.00000000000000000000.wasm"), Err(()));
    }

    #[test]
    fn without_a_build_nothing_is_hashed() {
        let dir = tempdir::Dir::new();
        let assets = SiteAssets::load(&dir.path().join("site"), "aegis", dir.path());
        assert!(assets.hash_file.is_none());
        assert_eq!(
            assets.resolve("aegis.js"),
            Ok(("aegis.js".to_owned(), false))
        );
    }
}
