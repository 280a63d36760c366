#!/usr/bin/env bash
# Runs every test: formatting, clippy for the server and the browser builds,
# unit and integration tests on SQLite and on a throw-away PostgreSQL server,
# the sandbox tests (bubblewrap; E2B's Python SDK in a venv), and the
# Playwright suite in Debian's Chromium. Installs what is missing first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

started=$SECONDS
ensure_build_tools
ensure_test_tools

step "Formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "Clippy: server build (ssr)"
leptos_cargo clippy --features ssr --all-targets -- -D warnings

step "Clippy: browser build (hydrate, wasm32)"
# target/front is where cargo-leptos builds the WASM: sharing it saves work.
leptos_cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown \
  --target-dir target/front -- -D warnings

step "Starting PostgreSQL for the store tests"
trap stop_postgres EXIT
start_postgres

step "Unit and integration tests (SQLite and PostgreSQL)"
leptos_cargo test --features ssr

step "Browser tests (Playwright, Chromium)"
E2E_DIR="$(mktemp -d /tmp/ollio-e2e.XXXXXX)"
port="$(free_port)"
export OLLIO_ADDR="127.0.0.1:$port"
export PLAYWRIGHT_BASE_URL="http://127.0.0.1:$port"
export OLLIO_DATA_DIR="$E2E_DIR/data"
export DATABASE_URL="sqlite://$E2E_DIR/data/ollio.db"
export RUST_LOG="warn"
# Each browser test claims an address of its own through X-Forwarded-For, so
# sign-in throttling in one test never locks out another.
export OLLIO_TRUST_PROXY="true"
export OLLIO_SANDBOXD_ADDR="127.0.0.1:$(free_port)"
# The model is the scripted model server, speaking OpenAI's protocol: the
# `journey` script picks what to play from the user's message. No local
# Ollama's models mixed in.
model_port="$(free_port)"
target/debug/ollio scripted-model --scripts tests/model_scripts --addr "127.0.0.1:$model_port" \
  >"$E2E_DIR/scripted-model.log" 2>&1 &
model_pid=$!
trap 'kill $model_pid 2>/dev/null || true; stop_postgres' EXIT
export OLLIO_MODEL="openai:journey" OLLIO_EDIT_MODEL="openai:journey-mini"
export OPENAI_BASE_URL="http://127.0.0.1:$model_port/v1" OPENAI_API_KEY="sk-e2e" OLLAMA_HOST="http://127.0.0.1:9"
# Few credits, so running out is quick to show; the sandbox API key lets a
# test put a preview to sleep.
export OLLIO_FREE_CREDITS="4"
export OLLIO_SANDBOXD_API_KEY="e2b_$(od -An -N20 -tx1 /dev/urandom | tr -d " \n")"
# Screenshots for the README land here.
export OLLIO_SCREENSHOTS="$ROOT/docs/screenshots"
cargo leptos end-to-end
kill $model_pid 2>/dev/null || true
rm -rf "$E2E_DIR"

step "All tests passed in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
