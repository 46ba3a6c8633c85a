#!/usr/bin/env bash
# Create (once) the Python 3.11 environment of the Keras 3 side, install the pinned packages,
# and print the path of its python on stdout (everything else goes to stderr):
#
#   PY="$(scripts/keras3/setup.sh [VENV_DIR])"
#
# The venv lives in VENV_DIR, else $BIRNN_KERAS3_VENV, else $HOME/.cache/birnn/venv-keras3.
# A second run installs nothing unless requirements.txt or constraints.txt changed.
# Set PYTHON to choose the interpreter (default: python3.11, else python3).
# TensorFlow is large (~600 MB); pip's cache keeps the wheels between venvs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${BIRNN_KERAS3_VENV:-$HOME/.cache/birnn/venv-keras3}}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ "$version" != "3.11" ]]; then
	echo "keras3/setup.sh: need Python 3.11, $python is $version (set PYTHON=...)" >&2
	exit 1
fi
stamp="$venv/.birnn-requirements"
want="$(cat "$here/requirements.txt" "$here/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" ]]; then
	mkdir -p "$(dirname "$venv")"
	"$python" -m venv "$venv" >&2
fi
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
		-r "$here/requirements.txt" -c "$here/constraints.txt" >&2
	"$venv/bin/python" -m pip check >&2
	echo "$want" >"$stamp"
fi
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" - >&2 <<'PY'
import platform
import numpy, onnx, onnxruntime, tensorflow as tf, tf2onnx, keras
print("keras3/setup.sh: python", platform.python_version(), "tensorflow", tf.__version__,
      "keras", keras.__version__, "tf2onnx", tf2onnx.__version__, "onnx", onnx.__version__,
      "onnxruntime", onnxruntime.__version__, "numpy", numpy.__version__)
PY
echo "$venv/bin/python"
