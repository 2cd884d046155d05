#!/usr/bin/env bash
# Builds pkg/, the npm package: release wasm (opt-level z, LTO) → wasm-bindgen (--target web)
# → wasm-opt -Oz → the per-runtime entry files and package.json from pkg-template/.
set -euo pipefail
cd "$(dirname "$0")/.."
WASM=target/wasm32-unknown-unknown/wasm-release/appxite_customers.wasm

cargo build --quiet --target wasm32-unknown-unknown --profile wasm-release -p appxite-customers
rm -rf pkg.tmp && mkdir pkg.tmp
wasm-bindgen --target web --out-dir pkg.tmp --out-name appxite_customers "$WASM"
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg.tmp/appxite_customers_bg.wasm -o pkg.tmp/appxite_customers_bg.wasm
cp pkg-template/* pkg.tmp/
VERSION=$(sed -n '0,/^version = "\(.*\)"/s//\1/p' Cargo.toml)
sed -i "s/\"version\": \"0.0.0\"/\"version\": \"$VERSION\"/" pkg.tmp/package.json
rm -rf pkg && mv pkg.tmp pkg
printf 'pkg/ built: %s bytes wasm, %s bytes gzip\n' \
  "$(stat -c %s pkg/appxite_customers_bg.wasm)" "$(gzip -9c pkg/appxite_customers_bg.wasm | wc -c)"
