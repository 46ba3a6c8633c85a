#!/usr/bin/env bash
# Create the Python environment of the ONNX checker (default
# scripts/onnxcheck/.venv) with a pinned onnx from PyPI, and print the path
# of its python, the value BIRNN_ONNX_CHECKER takes:
#
#   export BIRNN_ONNX_CHECKER="$(scripts/onnxcheck/setup.sh)"
#
# Set PYTHON to choose the interpreter (default: python3, 3.9 or newer).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-$here/.venv}"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
	"$python" -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c 'import onnx, sys; sys.exit(onnx.__version__ != "1.22.0")' 2>/dev/null; then
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
"$venv/bin/python" -c 'import onnx; import sys; print("onnxcheck: onnx", onnx.__version__, file=sys.stderr)'
echo "$venv/bin/python"
