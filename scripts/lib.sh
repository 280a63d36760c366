# Shared by the scripts: pinned tools, installed on demand, so a fresh Debian
# 12 machine with Rust needs nothing else by hand; and the one way the
# browser files are built. Sourced, not run.

# Pinned tool versions. wasm-bindgen-cli is pinned by Cargo.lock instead: it
# must equal the wasm-bindgen library version the app compiles against.
# cargo-leptos is only for development (`./scripts/dev.sh`, `cargo leptos
# watch`): the run, test and bench commands build without it.
CARGO_LEPTOS_VERSION="0.3.10"
# E2B's official Python SDK, which the conformance test drives sandboxd with.
E2B_SDK_VERSION="2.63.0"
# moto's S3-speaking server, for the blob store's S3 test.
MOTO_VERSION="5.2.5"
# wasm-opt for release builds, from npm's binaryen package.
BINARYEN_VERSION="132.0.0"
# Minifies the release build's JS and CSS.
ESBUILD_VERSION="0.28.2"
# wasm-split (wasm_split_cli_support's wasm-split-cli), which moves the
# lazily loaded parts of the WASM (`#[lazy]`: app/project/lazy_part.rs) into
# files of their own; the version cargo-leptos $CARGO_LEPTOS_VERSION splits with.
WASM_SPLIT_VERSION="0.2.3"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"
# Tools from npm, one folder per version, kept outside the clone so that a
# fresh clone on this machine reuses them.
TOOLS_DIR="${OLLIO_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ollio/tools}"
# Where the browser files are built (what cargo-leptos calls the site).
SITE_ROOT="$ROOT/target/site"

# Leptos reads LEPTOS_OUTPUT_NAME when it compiles (it names the /pkg files),
# and debug builds take `--cfg erase_components` (smaller, faster to build):
# every cargo command gets both the way cargo-leptos gives them, so the
# scripts and `cargo leptos watch` share compiled dependencies. RUSTFLAGS
# itself stays unset, or cargo-leptos would add the flag a second time.
export LEPTOS_OUTPUT_NAME="ollio"
unset RUSTFLAGS
leptos_cargo() {
  RUSTFLAGS="--cfg erase_components" cargo "$@"
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

# Started as root, `ollio serve` keeps root only in the sandbox daemon's
# process and runs the web server as this system user (OLLIO_USER).
ensure_service_user() {
  [ "$(id -u)" = 0 ] || return 0
  local user="${OLLIO_USER:-ollio}"
  id "$user" >/dev/null 2>&1 && return 0
  step "Creating the system user $user, which the web server runs as"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
}

# As root, the default data folder (./data) must be one the service user can
# reach; a checkout under a closed folder (say, /root) keeps its data in
# /var/lib/ollio/data instead, and says so.
choose_data_dir() {
  [ "$(id -u)" = 0 ] || return 0
  [ -z "${OLLIO_DATA_DIR:-}" ] || return 0
  grep -qs '^OLLIO_DATA_DIR=' .env && return 0
  local user="${OLLIO_USER:-ollio}"
  runuser -u "$user" -- test -x "$ROOT" 2>/dev/null && return 0
  export OLLIO_DATA_DIR=/var/lib/ollio/data
  mkdir -p "$OLLIO_DATA_DIR"
  echo "The data folder is $OLLIO_DATA_DIR: the user $user, which serves the app, cannot reach $ROOT/data"
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

# What building and serving the app needs: Rust with the wasm32 target,
# bubblewrap (it isolates sandboxes), python3 (what the sandboxes' templates
# and the tests' programs run) and Node.js (wasm-opt and esbuild are npm
# packages). wasm-bindgen-cli and wasm-split are separate: they compile for
# minutes, so the scripts start them beside the first build
# (ensure_wasm_tools).
ensure_build_tools() {
  command -v cargo >/dev/null || die "Rust is not installed: install it with rustup first (https://rustup.rs)"
  apt_install bubblewrap python3
  command -v npm >/dev/null || apt_install nodejs npm
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  ensure_npm_tool binaryen "$BINARYEN_VERSION"
  ensure_npm_tool esbuild "$ESBUILD_VERSION"
}

# Puts npm package NAME@VERSION's commands on PATH, installing it first.
ensure_npm_tool() {
  local name="$1" version="$2"
  local dir="$TOOLS_DIR/$name-$version"
  if [ ! -f "$dir/.installed" ]; then
    step "Installing $name $version (npm)"
    rm -rf "$dir" && mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --no-save "$name@$version" >/dev/null
    touch "$dir/.installed"
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
}

# wasm-bindgen-cli at exactly Cargo.lock's wasm-bindgen version, in cargo's
# bin folder. Safe to run in the background beside a build. Only the
# `wasm-bindgen` command, without the test runner's TLS, and unoptimised
# (--debug): 1 min 15 s instead of 3 min on 2 cores, and it still turns the
# app's WASM into the same bytes, in about two seconds.
ensure_wasm_tools() {
  ensure_wasm_bindgen
  ensure_wasm_split
}

ensure_wasm_bindgen() {
  local wb
  wb="$(wasm_bindgen_version)"
  [ -n "$wb" ] || die "Cargo.lock names no wasm-bindgen version"
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb" ]; then
    step "Installing wasm-bindgen-cli $wb (matches Cargo.lock)"
    # --locked can fail when the registry lacks a locked dependency; the
    # version itself stays exact either way.
    local lean=(--debug --no-default-features --bin wasm-bindgen --quiet)
    cargo install wasm-bindgen-cli --version "=$wb" "${lean[@]}" --locked \
      || cargo install wasm-bindgen-cli --version "=$wb" "${lean[@]}"
  fi
}

# wasm-split-cli at WASM_SPLIT_VERSION, in cargo's bin folder (under a
# minute on 2 cores).
ensure_wasm_split() {
  if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    step "Installing wasm-split-cli $WASM_SPLIT_VERSION"
    cargo install wasm_split_cli_support --version "=$WASM_SPLIT_VERSION" \
      --features build-binary --locked --quiet
  fi
}

# cargo-leptos, for `cargo leptos watch` (./scripts/dev.sh).
ensure_cargo_leptos() {
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    step "Installing cargo-leptos $CARGO_LEPTOS_VERSION (takes about 15 minutes once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
}

# The wasm-opt flags in Cargo.toml's [package.metadata.leptos], which
# cargo-leptos reads too.
wasm_opt_flags() {
  python3 -c 'import sys, tomllib
print(" ".join(tomllib.load(open(sys.argv[1], "rb"))["package"]["metadata"]["leptos"]["wasm-opt-features"]))' \
    "$ROOT/Cargo.toml"
}

# The browser files, built into target/site as cargo-leptos would build
# them: the WASM (the `hydrate` feature, for wasm32), wasm-bindgen's JS for
# it, the style sheet and the public files. `release` (what ./scripts/run.sh
# serves and the benchmark measures) uses the wasm-release profile, runs
# wasm-opt with Cargo.toml's flags and minifies the JS and CSS; `dev` (the
# browser suite's) builds the lightly optimised wasm-dev profile.
build_site() {
  build_wasm "$1"
  finish_site "$1"
}

wasm_profile() {
  case "$1" in
    release) echo "wasm-release" ;;
    dev) echo "wasm-dev" ;;
    *) die "the browser files are built for release or dev, not $1" ;;
  esac
}

# The first half of build_site: compiling the WASM (the long part; it needs
# no wasm-bindgen yet, so the two can be made side by side).
build_wasm() {
  local profile
  profile="$(wasm_profile "$1")"
  step "Building the browser's WASM ($profile)"
  # wasm-split needs the linker's relocations. Passed to the app's crate
  # alone (cargo rustc), so its dependencies stay those clippy builds.
  leptos_cargo rustc --package=ollio --lib --target=wasm32-unknown-unknown \
    --target-dir="$ROOT/target/front" --no-default-features --features=hydrate \
    --profile="$profile" -- -Clink-args=--emit-relocs
}

# The second half: wasm-split, wasm-bindgen, wasm-opt and esbuild, then the
# public files.
finish_site() {
  local mode="$1" profile pkg="$SITE_ROOT/pkg" wasm
  profile="$(wasm_profile "$mode")"
  rm -rf "$pkg"
  mkdir -p "$pkg"
  # The lazily loaded parts go to /pkg/split_*.wasm, loaded through
  # /pkg/__wasm_split.js; the rest to pkg/ollio.wasm, for wasm-bindgen.
  wasm-split-cli "$ROOT/target/front/wasm32-unknown-unknown/$profile/ollio.wasm" "$pkg" \
    --out-name=ollio
  wasm-bindgen --target=web --out-name=ollio --out-dir="$pkg" --no-typescript \
    --keep-lld-exports --no-demangle "$pkg/ollio.wasm"
  # Leptos' hydration script asks for /pkg/ollio.wasm.
  mv "$pkg/ollio_bg.wasm" "$pkg/ollio.wasm"
  if [ "$mode" = release ]; then
    for wasm in "$pkg"/*.wasm; do
      # shellcheck disable=SC2046
      wasm-opt $(wasm_opt_flags) "$wasm" -o "$wasm"
    done
    # wasm-bindgen imports __wasm_split.js twice, under one key.
    esbuild "$pkg/ollio.js" --minify --format=esm --log-level=warning --allow-overwrite \
      --log-override:duplicate-object-key=silent --outfile="$pkg/ollio.js"
    esbuild "$ROOT/style/main.css" --minify --log-level=warning --outfile="$pkg/ollio.css"
  else
    cp "$ROOT/style/main.css" "$pkg/ollio.css"
  fi
  build_bundles "$mode"
  cp -r "$ROOT/public/." "$SITE_ROOT/"
}

# The Code tab's browser libraries, each at its src/{name}/package-lock.json
# versions, bundled by esbuild into /pkg/{name}.js, which the project page
# imports when it needs them: the editor (CodeMirror 6) once the page is
# interactive, the terminal (xterm.js) when it is first opened. Their
# packages are installed outside the clone, once per lock file.
build_bundles() {
  local mode="$1"
  build_bundle "$mode" editor @codemirror/view
  build_bundle "$mode" terminal @xterm/xterm
}

build_bundle() {
  local mode="$1" name="$2" marker="$3" lock_hash modules
  lock_hash="$(sha256sum "$ROOT/src/$name/package-lock.json" | cut -c1-16)"
  modules="$TOOLS_DIR/$name-$lock_hash"
  if [ ! -d "$modules/node_modules/$marker" ]; then
    step "Installing the $name's packages ($modules)"
    rm -rf "$modules"
    mkdir -p "$modules"
    cp "$ROOT/src/$name/package.json" "$ROOT/src/$name/package-lock.json" "$modules/"
    (cd "$modules" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  ensure_npm_tool esbuild "$ESBUILD_VERSION"
  local minify=()
  [ "$mode" = release ] && minify=(--minify)
  # A style sheet a library imports comes in as text, for it to add itself.
  NODE_PATH="$modules/node_modules" esbuild "$ROOT/src/$name/index.js" --bundle --format=esm \
    --loader:.css=text "${minify[@]}" --log-level=warning --outfile="$SITE_ROOT/pkg/$name.js"
}

# What the test suite needs besides the build tools.
ensure_test_tools() {
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  apt_install chromium postgresql
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ]; then
    step "Installing the Playwright runner (no browser download)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
  ensure_e2b_sdk
  ensure_moto
}

# A venv in the tools folder (outside the clone) holding PACKAGE at VERSION,
# made again when it holds another version; prints its folder.
#   ensure_venv NAME PACKAGE VERSION [EXTRAS]
ensure_venv() {
  local name="$1" package="$2" version="$3" extras="${4:-}"
  local venv="$TOOLS_DIR/$name-$version"
  if [ "$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$package'))" 2>/dev/null)" != "$version" ]; then
    step "Installing $package $version into a venv ($venv)" >&2
    rm -rf "$venv"
    mkdir -p "$TOOLS_DIR"
    if ! /usr/bin/python3 -m venv "$venv" 2>/dev/null; then
      apt_install python3-venv >&2
      /usr/bin/python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package$extras==$version" >&2
  fi
  echo "$venv"
}

# E2B's SDK, for the daemon's SDK test (OLLIO_TEST_E2B_PYTHON).
ensure_e2b_sdk() {
  local venv
  venv="$(ensure_venv e2b-sdk e2b "$E2B_SDK_VERSION")"
  export OLLIO_TEST_E2B_PYTHON="$venv/bin/python"
}

# moto's server (`moto_server`, S3 on loopback), for the blob store's S3
# test (OLLIO_TEST_MOTO).
ensure_moto() {
  local venv
  venv="$(ensure_venv moto moto "$MOTO_VERSION" "[server]")"
  export OLLIO_TEST_MOTO="$venv/bin/moto_server"
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
