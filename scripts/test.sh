#!/usr/bin/env bash
# The whole test suite. Tests that need root, network namespaces or tshark
# print a loud SKIPPED line when they cannot run (and fail instead under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
