#!/usr/bin/env bash
# Builds pkg/, the npm package: release wasm (opt-level z, LTO) → wasm-bindgen (--target web)
# → wasm-opt -Oz → the per-runtime entry files and package.json from pkg-template/.
set -euo pipefail
cd "$(dirname "$0")/.."
WASM=target/wasm32-unknown-unknown/wasm-release/appxite_customers.wasm

cargo build --quiet --target wasm32-unknown-unknown --profile wasm-release -p appxite-customers
rm -rf pkg.tmp && mkdir pkg.tmp
# --experimental-reset-state-function: the glue can replace a broken instance with a fresh one
# from the same compiled module (see pkg-template/guard.js).
wasm-bindgen --target web --experimental-reset-state-function --out-dir pkg.tmp --out-name appxite_customers "$WASM"
# wasm-bindgen's output still has its function names: bench/size.mjs reads them.
mkdir -p build && cp pkg.tmp/appxite_customers_bg.wasm build/appxite_customers_bg.named.wasm
# -ocimfs=0: binaryen inlines no function just because it has one caller. By default it folds
# the scanner, de-duplication and request code into the pager's async state machine (19 KB of
# wasm in one function), which V8 then recompiles with TurboFan once it is hot — measured in a
# fresh Node process syncing one page of 7,302 customers: 159 → 35 ms of TurboFan compiling,
# its largest zone 10.2 → 3.6 MB. The package also shrinks (70.6 → 68.3 KB gzip).
node_modules/.bin/wasm-opt -Oz -ocimfs=0 --converge --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg.tmp/appxite_customers_bg.wasm -o pkg.tmp/appxite_customers_bg.wasm
# The .d.ts: options parameters are optional (wasm-bindgen writes an overridden parameter
# type as required), and `[Symbol.dispose]` needs lib "esnext.disposable", which most
# consumers' tsconfig lacks — the method still exists at run time. Fail loudly if a
# wasm-bindgen upgrade changes the text these edits expect.
DTS=pkg.tmp/appxite_customers.d.ts
for pattern in 'options: CustomersOptions)' 'options: SyncOptions)' 'constructor(options: AppxiteClientOptions)' 'toArray(options: { limit?: number })' '\[Symbol.dispose\]'; do
  grep -q "$pattern" "$DTS" || { echo "build-pkg: '$pattern' not found in $DTS" >&2; exit 1; }
done
sed -i -e 's/options: CustomersOptions)/options?: CustomersOptions)/' \
  -e 's/options: SyncOptions)/options?: SyncOptions)/' \
  -e 's/constructor(options: AppxiteClientOptions)/constructor(options?: AppxiteClientOptions)/' \
  -e 's/toArray(options: { limit?: number })/toArray(options?: { limit?: number })/' \
  -e '/\[Symbol.dispose\]()/d' "$DTS"
# wasm-bindgen's init declarations (InitInput, initSync, the default init) name DOM types —
# RequestInfo, BufferSource, WebAssembly — that a Node-only TypeScript project does not have.
# The package never exposes init, so they are cut from the .d.ts.
grep -q '^export type InitInput = ' "$DTS" || { echo "build-pkg: wasm-bindgen's init declarations not found in $DTS" >&2; exit 1; }
sed -i '/^export type InitInput = /,$d' "$DTS"
# wasm-bindgen's __wbg_reset_state (the glue's, to start over after a trap) is not the
# package's: no entry exports it, but `export type *` in index.d.ts would name it.
sed -i '/^export function __wbg_reset_state(): void;$/d' "$DTS"
# tsify leaves the fields of `Customer`, `AppxiteEvent` and `CustomerChange` without their
# Rust docs (one-line type literals): put them back, and document wasm-bindgen's `free()`.
node scripts/dts-docs.mjs "$DTS"
# The glue's async init defaults to `new URL("appxite_customers_bg.wasm", import.meta.url)`.
# No entry uses that default (the wasm is embedded, or imported as a module in workerd), but
# webpack, Vite and Parcel see the URL and emit the .wasm as an asset nobody loads: cut it.
GLUE=pkg.tmp/appxite_customers.js
grep -q "module_or_path = new URL('appxite_customers_bg.wasm', import.meta.url);" "$GLUE" \
  || { echo "build-pkg: the glue's default wasm URL not found in $GLUE" >&2; exit 1; }
sed -i "s|module_or_path = new URL('appxite_customers_bg.wasm', import.meta.url);|throw new Error('appxite-customers: init needs the module');|" "$GLUE"
# Every call into the wasm goes through guard.js's wrapper, which notices a broken instance
# (the glue sets `wasm` in two places: the first init and the reset).
for pattern in 'wasm = instance.exports;' 'wasm = wasmInstance.exports;'; do
  [ "$(grep -c "$pattern" "$GLUE")" = 1 ] || { echo "build-pkg: '$pattern' not found once in $GLUE" >&2; exit 1; }
done
sed -i -e 's|wasm = instance.exports;|wasm = guardExports(instance.exports);|' \
  -e 's|wasm = wasmInstance.exports;|wasm = guardExports(wasmInstance.exports);|' "$GLUE"
sed -i '1i import { guardExports } from "./guard.js";' "$GLUE"
# A callback of a replaced instance (a fetch or timer of a run that already failed with
# INTERNAL) does nothing: thrown, it would be an unhandled rejection — fatal in Node.
grep -q "throw new Error('Cannot invoke closure from previous WASM instance');" "$GLUE" \
  || { echo "build-pkg: the glue's stale-closure check not found in $GLUE" >&2; exit 1; }
sed -i "s|throw new Error('Cannot invoke closure from previous WASM instance');|return;|" "$GLUE"
# The glue is ~30 KB of readable JS: minify it (the .d.ts documents the API).
node_modules/.bin/terser pkg.tmp/appxite_customers.js --module --compress --mangle \
  -o pkg.tmp/appxite_customers.min.js && mv pkg.tmp/appxite_customers.min.js pkg.tmp/appxite_customers.js
cp pkg-template/* pkg.tmp/
# The package's own JS runs in every browser that loads it: minified like the glue (their
# comments — the reasons — stay in pkg-template/). guard.js 6.4 → 2.2 KB, fast-iterator.js
# 3.1 → 1.1 KB before gzip (−2.3 KB gzip together).
for f in guard.js fast-iterator.js; do
  node_modules/.bin/terser "pkg.tmp/$f" --module --compress --mangle -o "pkg.tmp/$f.min" && mv "pkg.tmp/$f.min" "pkg.tmp/$f"
done
# The wasm embedded in JavaScript: gzip + base64 for browsers (wasm-inline.js, see
# index.browser.js), plain base64 for Node (wasm-base64.js, see index.node.js).
# The browsers' gzip is Zopfli's (@gfx/zopfli): the same format DecompressionStream reads,
# 73.3 → 68.9 KB for this module (zlib -9 → 15 iterations), so what a page loads shrinks by
# as much — base64 of compressed bytes gzips back to their size, never below. ~2 s a build.
node -e '
  const { readFileSync, writeFileSync } = require("node:fs");
  const { gzipAsync } = require("@gfx/zopfli");
  const wasm = readFileSync("pkg.tmp/appxite_customers_bg.wasm");
  gzipAsync(wasm, { numiterations: 15 }).then((gz) => {
    writeFileSync("pkg.tmp/wasm-inline.js",
      "// The SDK'"'"'s WebAssembly, gzip then base64 (written by scripts/build-pkg.sh).\n" +
      "export const wasmGzipBase64 = \"" + Buffer.from(gz).toString("base64") + "\";\n");
  });
  writeFileSync("pkg.tmp/wasm-base64.js",
    "// The SDK'"'"'s WebAssembly, base64 (written by scripts/build-pkg.sh).\n" +
    "export const wasmBase64 = \"" + wasm.toString("base64") + "\";\n");
'
# The npm README: the user-facing parts of README.md (between npm:start / npm:end markers).
awk '/<!-- npm:end -->/ {on=0; next} /<!-- npm:start -->/ {on=1; next} on' on=1 README.md > pkg.tmp/README.md
cp CHANGELOG.md pkg.tmp/
VERSION=$(sed -n '0,/^version = "\(.*\)"/s//\1/p' Cargo.toml)
sed -i "s/\"version\": \"0.0.0\"/\"version\": \"$VERSION\"/" pkg.tmp/package.json
rm -rf pkg && mv pkg.tmp pkg
printf 'pkg/ built: %s bytes wasm, %s bytes gzip\n' \
  "$(stat -c %s pkg/appxite_customers_bg.wasm)" "$(gzip -9c pkg/appxite_customers_bg.wasm | wc -c)"
# Resolve "appxite-customers" from this repository's tests, benchmarks and examples as an
# installed package would (npm install prunes the link, so it is made after every build).
mkdir -p node_modules && ln -sfn ../pkg node_modules/appxite-customers
# The demo page imports ./pkg/ (served from www/ by appxite-mock).
ln -sfn ../pkg www/pkg
