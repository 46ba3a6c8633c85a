#!/usr/bin/env bash
# ratios.sh runs birnn's end-to-end benchmarks against ONNX Runtime (same
# process, same inputs, alternating rounds) and prints the ratio table in
# markdown (with -readme, also into the README):
#
#   scripts/bench/ratios.sh [-rounds 5] [-benchtime 2s] [-bench REGEXP] [-raw FILE] [-readme README.md]
#
# The table goes to stdout, progress and the raw benchmark lines to stderr.
# BIRNN_KERNEL=purego|avx2|avx512 forces the engine's kernels (see internal/kernel);
# -readme README.md also rewrites the README's inference speed table.
set -euo pipefail
cd "$(dirname "$0")/../.."
ONNXRUNTIME_LIB="$(scripts/ort/fetch.sh)"
export ONNXRUNTIME_LIB
exec go run ./scripts/bench/ratios "$@"
