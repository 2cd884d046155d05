#!/usr/bin/env bash
# Both packages are ready to publish (scripts/test.sh runs this; nothing is uploaded):
#   npm publish --dry-run                          pkg/, as `make pkg` built it
#   cargo publish --dry-run -p appxite-customers   packages the crate, then builds the packaged
#                                                  copy on its own
# and the emulator's crate is never published.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build

# npm: any warning fails (an auto-corrected manifest, a missing file …), except the one a
# dry run without a login always prints.
(cd pkg && npm publish --dry-run) > build/npm-publish.log 2>&1 || { cat build/npm-publish.log; exit 1; }
grep -E '^npm notice (name|version|package size|total files):' build/npm-publish.log
if grep -i '^npm warn' build/npm-publish.log | grep -v 'requires you to be logged in'; then
  echo "npm publish --dry-run warned (build/npm-publish.log)" >&2
  exit 1
fi

# cargo: refuses uncommitted changes to the crate's files unless told; a clean clone (CI)
# runs it as a release would, a working copy says it is dirty.
dirty=()
if git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$(git status --porcelain -- src 'tests/*.rs' tests/fixtures Cargo.toml Cargo.lock README.md CHANGELOG.md)" ]; then
  echo "cargo publish --dry-run --allow-dirty: the crate's files have uncommitted changes"
  dirty=(--allow-dirty)
fi
cargo publish --dry-run "${dirty[@]}" -p appxite-customers 2>&1 | grep -vE '^\s+(Updating|Uploading)' | sed 's/^/  /'

cargo metadata --no-deps --format-version 1 | node -e '
  const { packages } = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const mock = packages.find((p) => p.name === "appxite-mock");
  if (!mock || JSON.stringify(mock.publish) !== "[]") { console.error("appxite-mock must have publish = false"); process.exit(1); }
  console.log("appxite-mock: publish = false");
'
