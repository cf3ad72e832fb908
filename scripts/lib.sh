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

# moto's S3 server, for the evidence tests on a real S3 API. In its own virtualenv, outside
# the clone; pinned so every run tests against the same server.
MOTO_VERSION="5.2.5"
MOTO_VENV="$HOME/.cache/aegis-moto"
ensure_moto() {
  if ! "$MOTO_VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    log "Installing moto $MOTO_VERSION (S3-compatible test server)"
    command -v python3 >/dev/null || ensure_debian_packages python3
    python3 -c "import venv, ensurepip" 2>/dev/null || ensure_debian_packages python3-venv
    python3 -m venv "$MOTO_VENV"
    "$MOTO_VENV/bin/pip" install -q "moto[server]==$MOTO_VERSION"
  fi
  export AEGIS_MOTO_SERVER="$MOTO_VENV/bin/moto_server"
}

# cargo-leptos writes the site (wasm, JS, CSS, assets) here.
site_root() {
  echo "$ROOT/target/site"
}
