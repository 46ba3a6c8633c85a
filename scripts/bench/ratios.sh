#!/usr/bin/env bash
# ratios.sh runs birnn's end-to-end benchmarks against ONNX Runtime (same
# process, same inputs, alternating rounds) and prints the ratio table in
# markdown, the one the README's speed table is copied from:
#
#   scripts/bench/ratios.sh [-rounds 5] [-benchtime 2s] [-bench REGEXP] [-raw FILE]
#
# The table goes to stdout, progress and the raw benchmark lines to stderr.
# BIRNN_KERNEL=purego|avx2 forces the engine's kernels (see internal/kernel).
set -euo pipefail
cd "$(dirname "$0")/../.."
ONNXRUNTIME_LIB="$(scripts/ort/fetch.sh)"
export ONNXRUNTIME_LIB
exec go run ./scripts/bench/ratios "$@"
