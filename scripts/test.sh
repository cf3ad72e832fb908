#!/usr/bin/env bash
# Installs what is missing (Chromium included) and runs every check: formatting, clippy for the
# server and the WASM target, unit and integration tests on PostgreSQL and SQLite, then the
# Playwright suite against a freshly built server on a fresh database.
source "$(dirname "$0")/lib.sh"

started=$(date +%s)
ensure_debian_packages build-essential pkg-config chromium curl jq
ensure_rust_tools
ensure_node_packages
ensure_moto

step() {
  local name="$1"
  shift
  log "$name"
  local t0
  t0=$(date +%s)
  "$@"
  printf '    %s: done in %ss\n' "$name" "$(($(date +%s) - t0))"
}

step "Formatting" cargo fmt --all -- --check
step "Clippy (server, app, migration)" \
  cargo clippy -p server -p app -p migration --all-targets --locked -- -D warnings
step "Clippy (WASM frontend)" \
  cargo clippy -p frontend -p app --target wasm32-unknown-unknown --locked -- -D warnings

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "PostgreSQL must listen on 127.0.0.1:5432 (user postgres, trust auth) for the tests." >&2
  exit 1
fi
step "Unit and integration tests (SQLite and PostgreSQL)" \
  cargo test -p server -p app -p migration --locked

step "Building the site for the browser tests" cargo leptos build
export AEGIS_BIN="$CARGO_TARGET_DIR/debug/aegis"
export AEGIS_SITE_ROOT="$(site_root)"
step "Playwright (Chromium)" npx playwright test --config end2end/playwright.config.ts

log "All checks passed in $(($(date +%s) - started))s"
