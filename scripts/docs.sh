#!/usr/bin/env bash
# `make docs`: the API reference, built from what users get; not hosted — open the files.
#   build/docs/js/index.html    the npm package: TypeDoc over pkg/index.d.ts (make pkg first)
#   build/docs/rust/appxite_customers/index.html
#                               the crate: rustdoc for wasm32-unknown-unknown, as docs.rs
#                               builds it ([package.metadata.docs.rs] in Cargo.toml)
# Fails on any warning (TypeDoc --treatWarningsAsErrors with every validation on, including
# an undocumented declaration; RUSTDOCFLAGS="-D warnings") and on an export without an
# example (scripts/docs/check-examples.mjs). scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg/index.d.ts ] || { echo "docs: no pkg/index.d.ts: run make pkg first" >&2; exit 1; }
rm -rf build/docs && mkdir -p build/docs

node_modules/.bin/typedoc --options scripts/docs/typedoc.json --logLevel Warn

RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p appxite-customers --target wasm32-unknown-unknown
cp -r target/wasm32-unknown-unknown/doc build/docs/rust

node scripts/docs/check-examples.mjs build/docs/js.json build/docs/rust/appxite_customers
echo "docs: build/docs/js/index.html, build/docs/rust/appxite_customers/index.html"
