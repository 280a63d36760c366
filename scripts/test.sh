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
# Models to offer (never called: the address answers nothing), and no local
# Ollama's models mixed in.
export OLLIO_MODEL="openai:gpt-4.1" OLLIO_EDIT_MODEL="openai:gpt-4.1-mini"
export OPENAI_BASE_URL="http://127.0.0.1:9/v1" OLLAMA_HOST="http://127.0.0.1:9"
cargo leptos end-to-end
rm -rf "$E2E_DIR"

step "All tests passed in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
