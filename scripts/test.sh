#!/usr/bin/env bash
# Runs every test suite; `make test` calls it after building pkg/ and appxite-mock.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
# Everything is also written to build/test.log, for the totals at the end.
exec > >(tee build/test.log) 2>&1

section() { printf '\n\033[1m==== %s\033[0m\n' "$*"; }

section "cargo fmt --check (rustfmt.toml: the project's 140 columns)"
cargo fmt --all -- --check

section "host: cargo test (SDK pure logic + appxite-mock over HTTP)"
cargo test --workspace --quiet

section "package size budget"
node tests/size-budget.mjs

section "TypeScript: tsc --strict on a typed consumer (DOM + NodeNext, Node-only, bundler resolution)"
node_modules/.bin/tsc -p tests/types
node_modules/.bin/tsc -p tests/types/node-only
node_modules/.bin/tsc -p tests/types/bundler

section "API reference (make docs): TypeDoc and rustdoc without a warning, every export with an example"
scripts/docs.sh

section "ready to publish: npm publish --dry-run, cargo publish --dry-run"
scripts/publish-dry-run.sh

# One emulator for the suites whose URL is fixed at build time (wasm-bindgen-test).
MOCK_PORT=18181
if (echo > /dev/tcp/127.0.0.1/$MOCK_PORT) 2>/dev/null; then
  echo "port $MOCK_PORT is taken: stop whatever listens there (an old appxite-mock?) and rerun" >&2
  exit 1
fi
./target/release/appxite-mock --port $MOCK_PORT --customers 3000 > build/mock-$MOCK_PORT.log 2>&1 &
MOCK_PID=$!
# Cleanup only: the emulator may already be gone; a failed kill must not mask the test result.
trap 'kill $MOCK_PID 2>/dev/null || true' EXIT  # cleanup: the emulator may already have exited
for _ in $(seq 50); do grep -q "listening on" build/mock-$MOCK_PORT.log && break; sleep 0.1; done
export APPXITE_MOCK_URL=http://127.0.0.1:$MOCK_PORT
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

section "wasm: the Rust API in Node (wasm-bindgen-test)"
cargo test --target wasm32-unknown-unknown --test web

section "wasm: the same tests in headless Chromium (wasm-bindgen-test)"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test --target wasm32-unknown-unknown --test web

# node:test gets files, not a folder: `node --test DIR/` works on Node 20 and 26 only ("Cannot
# find module" on 22 and 24), and a quoted glob not on 20. The shell expands the globs.
section "Node $(node --version) (this machine's): the built package (node:test)"
APPXITE_EXPECT_NODE=$(node --version) node --test tests/node/*.test.mjs

# The same suite on every supported Node line (scripts/node-lines.sh; setup.sh installs them).
# That line's node is first on PATH, so what the tests start by name (node, npm) runs on it too.
. scripts/node-lines.sh
for v in $NODE_LINES; do
  [ "$(node --version)" = "v$v" ] && continue  # the machine's own, just tested
  bin=$PWD/build/node/$v/bin
  [ -x "$bin/node" ] || { echo "no $bin/node: run scripts/setup.sh --browser" >&2; exit 1; }
  section "Node $("$bin/node" --version): the built package (node:test)"
  started=$SECONDS
  PATH="$bin:$PATH" APPXITE_EXPECT_NODE="v$v" node --test tests/node/*.test.mjs
  echo "Node v$v: $((SECONDS - started)) s"
done

section "workerd (Miniflare): the built package in Cloudflare's runtime"
node --test tests/workerd/*.test.mjs

section "headless Chromium (Playwright): the demo page, importing the built package"
node --test tests/browser/*.test.mjs

section "Firefox and WebKit (W3C WebDriver): the shared scenarios and the demo page"
node --test tests/engines/*.test.mjs

section "consumers: the packed tarball in Node, Bun, Deno, esbuild, Rollup, webpack, Vite, Parcel, Next.js, wrangler"
node --test tests/consumers/*.test.mjs

# One closing line over every runner (cargo test and node:test print their own per suite;
# node:test's summary starts with "#" in TAP, Node 20 and 22's default here, "ℹ" in spec).
passed=$(( $(grep -oE 'test result: ok\. [0-9]+ passed' build/test.log | awk '{s+=$4} END {print s+0}') \
         + $(grep -E '^(#|ℹ) pass [0-9]+' build/test.log | awk '{s+=$3} END {print s+0}') ))
echo
echo "all suites: $passed passed, 0 failed"
