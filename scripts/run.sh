#!/usr/bin/env bash
# Runs Ollio on its embedded defaults at http://127.0.0.1:3000 (SQLite in
# ./data), installing the pinned build tools first if they are missing. It
# serves a release build: the server optimised, the browser files as small as
# the benchmark measures them. For development, `cargo leptos watch`.
# Settings come from the environment or a .env file; see the README.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_build_tools
ensure_wasm_opt
step "Building (release) and starting Ollio"
leptos_release serve "$@"
