#!/bin/sh
# The public migration benchmark: prints recall and false-positive rate per
# rule family and per rule. Usage: bench/analyses/migrations/run.sh
set -e
cd "$(dirname "$0")/../../.."
exec cargo test --quiet --manifest-path personas-wasm/Cargo.toml -p agent-os-persona-data \
  --target-dir "${CARGO_TARGET_DIR:-target}/guests-native" --lib bench::migrations_benchmark -- --ignored --nocapture
