#!/usr/bin/env bash
# Create (once) the Python 3.11 environment of the Keras 3 side, install the pinned packages,
# and print the path of its python on stdout (everything else goes to stderr):
#
#   PY="$(scripts/keras3/setup.sh [VENV_DIR])"
#
# The venv lives in VENV_DIR, else $BIRNN_KERAS3_VENV, else $HOME/.cache/birnn/venv-keras3.
# A second run installs nothing unless requirements.txt or constraints.txt changed.
# Set PYTHON to choose the interpreter (default: python3.11, else python3).
# TensorFlow is large (~600 MB); pip's cache keeps the wheels between venvs. Never run in CI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${BIRNN_KERAS3_VENV:-$HOME/.cache/birnn/venv-keras3}}"
"$here/pinned_venv.sh" keras3/setup.sh "$venv" 3.11 "$here/requirements.txt" "$here/constraints.txt"
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" - >&2 <<'PY'
import platform
import numpy, onnx, onnxruntime, tensorflow as tf, tf2onnx, keras
print("keras3/setup.sh: python", platform.python_version(), "tensorflow", tf.__version__,
      "keras", keras.__version__, "tf2onnx", tf2onnx.__version__, "onnx", onnx.__version__,
      "onnxruntime", onnxruntime.__version__, "numpy", numpy.__version__)
PY
echo "$venv/bin/python"
