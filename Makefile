# The two commands a new user needs: `make demo` and `make test`. Both install what they
# need (scripts/setup.sh) and are quick on a rerun.
.PHONY: demo test pkg mock setup setup-browser bench docs clean

DEMO_PORT ?= 8080
DEMO_WWW_PORT ?= 8081

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup.sh --browser

pkg: setup
	@scripts/build-pkg.sh
	@mkdir -p node_modules && ln -sfn ../pkg node_modules/appxite-customers

mock:
	@cargo build --quiet --release -p appxite-mock

## Build everything, start the emulator, serve the demo page, print its URL.
demo: pkg mock
	@ln -sfn ../pkg www/pkg
	@echo "Starting appxite-mock (Ctrl-C to stop)…"
	@./target/release/appxite-mock --port $(DEMO_PORT) --www www --www-port $(DEMO_WWW_PORT) | \
	  sed -u 's|^demo page on \(.*\)|\n  Open the demo:  \1?api=http://127.0.0.1:$(DEMO_PORT)\n|'

## Install what the tests need and run every test.
test: setup-browser pkg mock
	@scripts/test.sh

## The API reference (not hosted): build/docs/js/ (the npm package) and build/docs/rust/ (the crate).
docs: pkg
	@scripts/docs.sh

## Side-by-side benchmark; writes BENCHMARKS.md.
bench: setup-browser pkg mock
	@node bench/run.mjs

clean:
	cargo clean
	rm -rf pkg www/pkg build
