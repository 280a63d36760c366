#!/usr/bin/env bash
# Development: `cargo leptos watch` with the pinned cargo-leptos (installed
# on first use, about 15 minutes) and wasm-bindgen-cli. It rebuilds the
# server and the browser files on every change and reloads the page; the
# browser build is the light wasm-dev profile (Cargo.toml). Arguments go to
# cargo leptos watch.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_build_tools
ensure_service_user
choose_data_dir
ensure_wasm_tools
ensure_cargo_leptos
exec cargo leptos watch --split "$@"
