#!/usr/bin/env bash
# Create the Python environment of the Keras side (default scripts/keras/.venv)
# and install the pinned requirements.
#
#   scripts/keras/setup.sh [VENV_DIR]
#
# Python 3.11 is required (tensorflow-cpu 2.15 has wheels for 3.9-3.11).
# Set PYTHON to choose the interpreter (default: python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-$here/.venv}"
python="${PYTHON:-python3}"

version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ "$version" != "3.11" ]]; then
	echo "setup.sh: need Python 3.11, $python is $version (set PYTHON=...)" >&2
	exit 1
fi

if [[ ! -x "$venv/bin/python" ]]; then
	"$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt" -c "$here/constraints.txt"
"$venv/bin/python" - <<'PY'
import numpy, onnx, onnxruntime, tensorflow as tf, tf2onnx
print("python", __import__("sys").version.split()[0], "tensorflow", tf.__version__,
      "keras", __import__("keras").__version__, "tf2onnx", tf2onnx.__version__, "onnx", onnx.__version__,
      "onnxruntime", onnxruntime.__version__, "numpy", numpy.__version__)
PY
echo "setup.sh: ready: $venv/bin/python"
