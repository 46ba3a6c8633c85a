#!/usr/bin/env bash
# test.sh is birnn's whole test suite, as CI runs it on a fresh machine:
# it installs what the tests need (Go modules, the ONNX Runtime library used
# as the reference engine, the Python venvs of the ONNX checker and the Keras
# side), then checks formatting, vets, runs the Go tests (with the race
# detector on the concurrent packages) and the Python tests.
#
# The IMDB data and ONNX conformance tests are read from ../shared/data or
# $BIRNN_DATA, and Debian's libonnx-testdata (installed here) gives the ONNX
# 1.12 node tests. With CI=true a test that needs them fails when they are
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "go modules"
go mod download

step "ONNX Runtime (reference engine for parity tests)"
ONNXRUNTIME_LIB="$(scripts/ort/fetch.sh)"
export ONNXRUNTIME_LIB
echo "$ONNXRUNTIME_LIB"

step "ONNX checker (Python onnx, for the export tests)"
BIRNN_ONNX_CHECKER="$(scripts/onnxcheck/setup.sh)"
export BIRNN_ONNX_CHECKER

step "ONNX backend node tests (Debian libonnx-testdata, ONNX 1.12)"
if ! dpkg -s libonnx-testdata >/dev/null 2>&1; then
	as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
	as_root apt-get update -qq && as_root apt-get install -y -qq libonnx-testdata >/dev/null
fi
BIRNN_ONNX_TESTDATA="$(dpkg -L libonnx-testdata | grep '/data/node$')"
export BIRNN_ONNX_TESTDATA
echo "$BIRNN_ONNX_TESTDATA"

step "gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go'))"
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "go test"
go test -count=1 -timeout 30m ./...

step "birnn conformance (libonnx-testdata, then ../shared/data/onnx-node-tests)"
go build -o "${TMPDIR:-/tmp}/birnn-conformance" ./cmd/birnn
for tests in "$BIRNN_ONNX_TESTDATA" "${BIRNN_DATA:-../shared/data}/onnx-node-tests"; do
	"${TMPDIR:-/tmp}/birnn-conformance" conformance "$tests" | tail -n 1
done

step "Open Inference Protocol v2: Triton's tritonclient (HTTP and gRPC, pinned venv) against a live birnn serve"
TRITON_PY="$(scripts/tritonclient/setup.sh)"
BIRNN_BIN="${TMPDIR:-/tmp}/birnn-conformance" "$TRITON_PY" -m pytest -q scripts/tritonclient

step "go test -race (concurrent packages; the served process built with -race)"
go test -count=1 -race -timeout 30m ./infer/... ./score/... ./serve/...
go test -count=1 -race -timeout 30m -run 'Serve' ./cmd/birnn

step "go test -tags purego (the portable kernels, without the assembly)"
go test -count=1 -timeout 10m -tags purego ./internal/kernel ./infer

# The run above took the best kernels of this CPU; the engine's tests also
# run on the AVX2 path when that was AVX-512. Without AVX-512 the AVX-512
# path is not tested, and this says so (BIRNN_KERNEL=avx512 would fail
# TestRequestedKernel there rather than pass on AVX2).
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo &&
	grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
	step "go test BIRNN_KERNEL=avx2 (go test above ran the AVX-512 kernels)"
	BIRNN_KERNEL=avx2 go test -count=1 -timeout 10m ./internal/kernel ./infer
else
	step "AVX-512 kernel path NOT TESTED: this CPU lacks avx512f/dq/bw/vl (go test above ran the AVX2 kernels)"
fi

step "Keras side (Python 3.11 venv: TensorFlow 2.15, tf2onnx; data recipe and fixtures)"
scripts/keras/setup.sh >/dev/null
scripts/keras/.venv/bin/python -m pytest -q scripts/keras

step "Keras 3 and PyTorch fixtures (small venv: onnx, onnxruntime; no TensorFlow or PyTorch)"
FIXTURECHECK_PY="$(scripts/keras3/setup_check.sh)"
"$FIXTURECHECK_PY" -m pytest -q --import-mode=importlib scripts/keras3/test_fixtures.py scripts/torch/test_fixtures.py
