# Shared by scripts/run.sh and scripts/test.sh: pinned tools, installed on
# demand, so a fresh Debian 12 machine with Rust needs nothing else by hand.
# Sourced, not run.

# Pinned tool versions. wasm-bindgen-cli is pinned by Cargo.lock instead: it
# must equal the wasm-bindgen library version the app compiles against.
CARGO_LEPTOS_VERSION="0.3.10"
# E2B's official Python SDK, which the conformance test drives sandboxd with.
E2B_SDK_VERSION="2.63.0"
# wasm-opt for release builds, from npm's binaryen package (cargo-leptos would
# download it from GitHub).
BINARYEN_VERSION="132.0.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

# cargo-leptos adds `--cfg erase_components` to RUSTFLAGS for debug builds
# (on top of any RUSTFLAGS already set) and sets LEPTOS_OUTPUT_NAME, which
# leptos reads at compile time. Plain cargo commands get the same through
# leptos_cargo, so `cargo test` and `cargo leptos build` share compiled
# dependencies instead of building everything twice. RUSTFLAGS itself stays
# unset, or cargo-leptos would add the flag a second time.
export LEPTOS_OUTPUT_NAME="ollio"
unset RUSTFLAGS
leptos_cargo() {
  RUSTFLAGS="--cfg erase_components" cargo "$@"
}

# `cargo leptos <command> --release`: the server in the release profile, the
# browser files in wasm-release, then wasm-opt with the flags in Cargo.toml.
# cargo-leptos leaves erase_components out of release builds; with it the
# WASM is smaller (81 KB less, brotli), so it is set here.
leptos_release() {
  RUSTFLAGS="--cfg erase_components" cargo leptos "$@" --release
}

step() {
  printf '\n\033[1m==> %s\033[0m\n' "$*"
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=""
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "Installing ${missing[*]} (apt)"
  if [ -z "$APT_UPDATED" ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# What building and serving the app needs. bubblewrap isolates sandboxes;
# python3 is what the sandboxes' templates and the tests' programs run.
ensure_build_tools() {
  command -v cargo >/dev/null || die "Rust is not installed: install it with rustup first (https://rustup.rs)"
  apt_install bubblewrap python3
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    step "Installing cargo-leptos $CARGO_LEPTOS_VERSION (takes about 13 minutes once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  local wb
  wb="$(wasm_bindgen_version)"
  [ -n "$wb" ] || die "Cargo.lock names no wasm-bindgen version"
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb" ]; then
    step "Installing wasm-bindgen-cli $wb (matches Cargo.lock)"
    # --locked can fail when the registry lacks a locked dependency; the
    # version itself stays exact either way.
    cargo install wasm-bindgen-cli --version "=$wb" --locked || cargo install wasm-bindgen-cli --version "=$wb"
  fi
}

# wasm-opt on PATH for release builds (a Node script: binaryen compiled to
# WebAssembly).
ensure_wasm_opt() {
  local dir="$ROOT/target/tools/binaryen"
  export PATH="$dir/node_modules/.bin:$PATH"
  if [ "$(cat "$dir/node_modules/binaryen/package.json" 2>/dev/null | sed -n 's/^ *"version": "\(.*\)",$/\1/p')" != "$BINARYEN_VERSION" ]; then
    command -v npm >/dev/null || apt_install nodejs npm
    step "Installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null
  fi
}

# What the test suite needs besides the build tools.
ensure_test_tools() {
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  apt_install chromium postgresql
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ]; then
    step "Installing the Playwright runner (no browser download)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
  ensure_e2b_sdk
}

# A venv in target/ with E2B's SDK at the pinned version; exports
# OLLIO_TEST_E2B_PYTHON for tests/e2b_sdk.rs.
ensure_e2b_sdk() {
  local venv="$ROOT/target/e2b-sdk-venv"
  if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("e2b"))' 2>/dev/null)" != "$E2B_SDK_VERSION" ]; then
    step "Installing E2B's Python SDK $E2B_SDK_VERSION into a venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      apt_install python3-venv
      /usr/bin/python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "e2b==$E2B_SDK_VERSION"
  fi
  export OLLIO_TEST_E2B_PYTHON="$venv/bin/python"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts a throw-away PostgreSQL server and exports OLLIO_TEST_POSTGRES_URL.
# stop_postgres (set as an EXIT trap by the caller) removes it again.
PG_DIR=""
PG_BIN=""
start_postgres() {
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL's server binaries are missing (apt-get install postgresql)"
  PG_DIR="$(mktemp -d /tmp/ollio-pg.XXXXXX)"
  local port
  port="$(free_port)"
  local pg=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: run the server as the postgres user.
    chown postgres:postgres "$PG_DIR"
    pg=(runuser -u postgres --)
  fi
  "${pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/db" -A trust -U ollio >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; die "initdb failed"; }
  "${pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/db" -l "$PG_DIR/server.log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null || { cat "$PG_DIR/server.log"; die "PostgreSQL did not start"; }
  export OLLIO_TEST_POSTGRES_URL="postgres://ollio@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $port"
}

stop_postgres() {
  [ -n "$PG_DIR" ] || return 0
  local pg=()
  [ "$(id -u)" = 0 ] && pg=(runuser -u postgres --)
  "${pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/db" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
