# Shared by setup, run and test: install what is missing, at the pinned versions, and nothing
# that is already there. Sourced, not executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Builds are slow on small machines: keep them outside the clone so a fresh clone reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/aegis-target}"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
CARGO_LEPTOS_VERSION="0.3.10"

log() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

ensure_rust_tools() {
  command -v cargo >/dev/null || { echo "Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "Installing cargo-leptos $CARGO_LEPTOS_VERSION"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  # wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
  local wb_version
  wb_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$wb_version"; then
    log "Installing wasm-bindgen-cli $wb_version"
    cargo install wasm-bindgen-cli --version "$wb_version"
  fi
}

ensure_node_packages() {
  command -v npm >/dev/null || ensure_debian_packages nodejs npm
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "Installing npm packages (Tailwind, wasm-opt, Playwright)"
    # `npm install` rather than `npm ci`: the lock file pins every version, but some registry
    # mirrors lack the other platforms' optional Tailwind binaries, which `npm ci` insists on.
    npm install --no-audit --no-fund --no-save
  fi
}

# cargo-leptos writes the site (wasm, JS, CSS, assets) here.
site_root() {
  echo "$ROOT/target/site"
}
