#!/usr/bin/env bash
# Runs every test suite; `make test` calls it after building pkg/ and appxite-mock.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build

section() { printf '\n\033[1m==== %s\033[0m\n' "$*"; }

section "host: cargo test (SDK pure logic + appxite-mock over HTTP)"
cargo test --workspace --quiet

section "package size budget"
node tests/size-budget.mjs

section "TypeScript: tsc --strict on a typed consumer"
node_modules/.bin/tsc -p tests/types

section "Node 20: the built package (node:test)"
node --test tests/node/

echo
echo "all suites passed"
