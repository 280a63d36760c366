#!/usr/bin/env bash
# Runs Ollio on its embedded defaults at http://127.0.0.1:3000 (SQLite in
# ./data), installing the pinned build tools first if they are missing.
# Settings come from the environment or a .env file; see the README.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_build_tools
step "Building and starting Ollio"
exec cargo leptos serve "$@"
