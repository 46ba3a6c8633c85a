#!/usr/bin/env bash
# Create (once) the small environment that checks the committed ONNX fixtures of
# testdata/keras3 and testdata/torch (onnx, onnxruntime, numpy, pytest: ~150 MB, no TensorFlow
# or PyTorch) and print the path of its python on stdout:
#
#   PY="$(scripts/keras3/setup_check.sh [VENV_DIR])"
#   "$PY" -m pytest -q scripts/keras3/test_fixtures.py
#   "$PY" -m pytest -q scripts/torch/test_fixtures.py
#
# The venv lives in VENV_DIR, else $BIRNN_FIXTURECHECK_VENV, else
# $HOME/.cache/birnn/venv-fixturecheck. Set PYTHON to choose the interpreter (3.10 or newer).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${BIRNN_FIXTURECHECK_VENV:-$HOME/.cache/birnn/venv-fixturecheck}}"
"$here/pinned_venv.sh" fixturecheck "$venv" "" "$here/requirements-check.txt"
"$venv/bin/python" -c 'import onnx, onnxruntime, sys; print("fixturecheck: onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__, file=sys.stderr)'
echo "$venv/bin/python"
