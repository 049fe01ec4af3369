//! The web console's files, served under `/console/`.
//!
//! The files in `orchestrator/console` are compiled into the binary, so a server needs nothing
//! beside it and the console loads nothing from the internet. Each response carries a content
//! hash as its `ETag` and asks the browser to revalidate, so a new build is picked up at once
//! and an unchanged file costs a `304`.
//!
//! Working on the console: set `STEPWASM_CONSOLE_DIR` to the `orchestrator/console` directory
//! of a checkout and the server reads the files from there on every request instead, so edits
//! show on reload without a rebuild.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console");

/// The environment variable that makes the server read the console from a directory.
const CONSOLE_DIR_VARIABLE: &str = "STEPWASM_CONSOLE_DIR";

/// Scripts, styles and data come only from this server; nothing inline runs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `GET /console`: the console lives under `/console/`, where its relative links work.
pub(crate) async fn redirect_to_index() -> Redirect {
    Redirect::permanent("/console/")
}

/// `GET /console/`.
pub(crate) async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /console/{*path}`.
pub(crate) async fn file(UrlPath(path): UrlPath<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(relative) = safe_relative_path(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let contents = match development_dir() {
        Some(dir) => match std::fs::read(dir.join(&relative)) {
            Ok(contents) => std::borrow::Cow::Owned(contents),
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        },
        None => match EMBEDDED.get_file(&relative) {
            Some(file) => std::borrow::Cow::Borrowed(file.contents()),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let etag = match development_dir() {
        Some(_) => content_tag(&contents),
        None => embedded_tags().get(relative.as_path()).cloned().unwrap_or_else(|| content_tag(&contents)),
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        contents.into_owned().into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&relative)));
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response_headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response_headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    response
}

/// The request path as a path inside the console directory, or `None` when it would leave it.
fn safe_relative_path(path: &str) -> Option<PathBuf> {
    let path = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
    let relative = PathBuf::from(path);
    relative.components().all(|component| matches!(component, Component::Normal(_))).then_some(relative)
}

fn development_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| std::env::var_os(CONSOLE_DIR_VARIABLE).filter(|dir| !dir.is_empty()).map(PathBuf::from))
        .as_deref()
}

/// The embedded files' tags, computed once.
fn embedded_tags() -> &'static HashMap<&'static Path, String> {
    static TAGS: OnceLock<HashMap<&'static Path, String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        let mut tags = HashMap::new();
        let mut pending = vec![&EMBEDDED];
        while let Some(dir) = pending.pop() {
            for entry in dir.entries() {
                match entry {
                    include_dir::DirEntry::Dir(inner) => pending.push(inner),
                    include_dir::DirEntry::File(file) => {
                        tags.insert(file.path(), content_tag(file.contents()));
                    }
                }
            }
        }
        tags
    })
}

fn content_tag(contents: &[u8]) -> String {
    let digest = Sha256::digest(contents);
    let hex: String = digest.iter().take(12).map(|byte| format!("{byte:02x}")).collect();
    format!("\"{hex}\"")
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("md" | "txt") | None => "text/plain; charset=utf-8",
        Some(_) => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_console_directory() {
        assert_eq!(safe_relative_path(""), Some(PathBuf::from("index.html")));
        assert_eq!(safe_relative_path("js/main.js"), Some(PathBuf::from("js/main.js")));
        assert_eq!(safe_relative_path("vendor/"), Some(PathBuf::from("vendor/index.html")));
        for escape in ["../Cargo.toml", "js/../../src/main.rs", "/etc/passwd", "./index.html"] {
            assert_eq!(safe_relative_path(escape), None, "{escape}");
        }
    }

    #[test]
    fn the_index_page_is_embedded() {
        let index = EMBEDDED.get_file("index.html").expect("console/index.html is embedded");
        assert!(std::str::from_utf8(index.contents()).is_ok_and(|html| html.contains("<html")));
    }
}
