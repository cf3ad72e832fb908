#!/usr/bin/env bash
# Installs what is missing, builds Aegis in release mode and starts it at http://127.0.0.1:3000
# on the embedded defaults (SQLite and evidence files under ./data/).
source "$(dirname "$0")/lib.sh"

ensure_debian_packages build-essential pkg-config
ensure_rust_tools
ensure_node_packages

log "Building Aegis (release)"
# --precompress writes .br and .gz next to the browser build, sent to browsers that accept them.
cargo leptos build --release --precompress

log "Starting Aegis"
export AEGIS_SITE_ROOT="${AEGIS_SITE_ROOT:-$(site_root)}"
exec "$CARGO_TARGET_DIR/release/aegis" serve
