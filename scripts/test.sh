#!/usr/bin/env bash
# Runs every test: formatting, clippy for the server and the browser builds,
# every crate's unit and integration tests on SQLite and on a throw-away
# PostgreSQL server, the sandbox tests (bubblewrap; E2B's Python SDK in a
# venv), and the Playwright suite in Debian's Chromium against the app with
# the scripted model server. Installs what is missing first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

started=$SECONDS
ensure_build_tools
ensure_test_tools
ensure_service_user
# wasm-bindgen-cli compiles for minutes on a fresh machine: beside the
# checks below, which need it only at the end.
ensure_wasm_tools &
bindgen=$!

step "Formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "Clippy: every crate, server build (ssr)"
leptos_cargo clippy --workspace --features ssr --all-targets -- -D warnings

step "Clippy: browser build (hydrate, wasm32)"
# target/front is where the browser files are built: sharing it saves work.
leptos_cargo clippy --package ollio --lib --no-default-features --features hydrate \
  --target wasm32-unknown-unknown --target-dir target/front -- -D warnings

step "Starting PostgreSQL for the store tests"
trap stop_postgres EXIT
start_postgres

step "Unit and integration tests of every crate (SQLite and PostgreSQL)"
# One build for the whole workspace, so dependencies are built once with the
# features every crate asks for; it also makes the binaries the browser
# suite runs (the debug `ollio` and the testkit's `scripted-model`).
leptos_cargo build --workspace --features ssr --bins --tests
# Built templates are kept outside the clone, keyed by a hash of their
# files, so a fresh clone on this machine installs none of them again.
export OLLIO_TEMPLATE_CACHE="${OLLIO_TEMPLATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ollio/templates}"
step "Building the sandbox templates (once per machine: $OLLIO_TEMPLATE_CACHE)"
templates_data="$(mktemp -d /tmp/ollio-templates.XXXXXX)"
OLLIO_DATA_DIR="$templates_data" target/debug/ollio templates build
rm -rf "$templates_data"
leptos_cargo test --workspace --features ssr

step "Browser tests (Playwright, Chromium)"
wait "$bindgen" || die "installing wasm-bindgen-cli or wasm-split failed"
build_site dev
E2E_DIR="$(mktemp -d /tmp/ollio-e2e.XXXXXX)"
# Started as root, the server works in it as its service user.
chmod 755 "$E2E_DIR"
port="$(free_port)"
model_port="$(free_port)"
export OLLIO_ADDR="127.0.0.1:$port"
export PLAYWRIGHT_BASE_URL="http://127.0.0.1:$port"
export OLLIO_DATA_DIR="$E2E_DIR/data"
export DATABASE_URL="sqlite://$E2E_DIR/data/ollio.db"
export LEPTOS_SITE_ROOT="$SITE_ROOT"
export RUST_LOG="warn"
# Each browser test claims an address of its own through X-Forwarded-For, so
# sign-in throttling in one test never locks out another: the test runner
# stands for the one proxy in front of the app.
export OLLIO_TRUSTED_PROXIES="1"
export OLLIO_SANDBOXD_ADDR="127.0.0.1:$(free_port)"
# The model is the scripted model server, speaking OpenAI's protocol: the
# `journey` script picks what to play from the user's message. No local
# Ollama's models mixed in.
export OLLIO_MODEL="openai:journey" OLLIO_EDIT_MODEL="openai:journey-mini"
export OPENAI_BASE_URL="http://127.0.0.1:$model_port/v1" OPENAI_API_KEY="sk-e2e" OLLAMA_HOST="http://127.0.0.1:9"
# A user's own provider may be the scripted server, on loopback: the
# operator's allowance (the bare server below runs without it).
export OLLIO_ALLOW_PRIVATE_MODEL_URLS="true"
# Few credits, so running out is quick to show; the sandbox API key lets a
# test put a preview to sleep.
export OLLIO_FREE_CREDITS="4"
export OLLIO_SANDBOXD_API_KEY="e2b_$(od -An -N20 -tx1 /dev/urandom | tr -d " \n")"
# Screenshots for the README land here.
export OLLIO_SCREENSHOTS="$ROOT/docs/screenshots"
target/debug/scripted-model --scripts crates/ollio-testkit/model_scripts --addr "127.0.0.1:$model_port" \
  >"$E2E_DIR/scripted-model.log" 2>&1 &
model_pid=$!
target/debug/ollio serve >"$E2E_DIR/ollio.log" 2>&1 &
server_pid=$!
# A second, bare server: no model of its own and no allowance for private
# provider URLs, as a fresh install is (the setup card, the SSRF refusal).
bare_port="$(free_port)"
export PLAYWRIGHT_BARE_URL="http://127.0.0.1:$bare_port"
env -u OLLIO_MODEL -u OLLIO_EDIT_MODEL -u OPENAI_BASE_URL -u OPENAI_API_KEY \
  -u OLLIO_ALLOW_PRIVATE_MODEL_URLS -u OLLIO_SANDBOXD_API_KEY \
  OLLIO_ADDR="127.0.0.1:$bare_port" OLLIO_DATA_DIR="$E2E_DIR/bare" \
  DATABASE_URL="sqlite://$E2E_DIR/bare/ollio.db" OLLIO_SANDBOXD_ADDR="127.0.0.1:$(free_port)" \
  target/debug/ollio serve >"$E2E_DIR/bare.log" 2>&1 &
bare_pid=$!
trap 'kill $model_pid $server_pid $bare_pid 2>/dev/null || true; stop_postgres' EXIT
# Playwright's global set-up waits until /healthz answers.
if ! (cd end2end && npx playwright test); then
  echo "--- the server's log (last 50 lines) ---"
  tail -n 50 "$E2E_DIR/ollio.log"
  echo "--- the bare server's log (last 20 lines) ---"
  tail -n 20 "$E2E_DIR/bare.log"
  exit 1
fi
kill $model_pid $server_pid $bare_pid 2>/dev/null || true
wait $server_pid $bare_pid 2>/dev/null || true
rm -rf "$E2E_DIR"

step "All tests passed in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
