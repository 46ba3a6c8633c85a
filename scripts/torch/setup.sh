#!/usr/bin/env bash
# Create (once) the Python 3.11 environment of the PyTorch side (fixtures, trainer anchor),
# install the pinned packages, and print the path of its python on stdout (everything else
# goes to stderr):
#
#   PY="$(scripts/torch/setup.sh [VENV_DIR])"
#
# The venv lives in VENV_DIR, else $BIRNN_TORCH_VENV, else $HOME/.cache/birnn/venv-torch.
# A second run installs nothing unless requirements.txt or constraints.txt changed.
# Set PYTHON to choose the interpreter (default: python3.11, else python3).
# The torch wheel pulls the CUDA libraries (several GB, unused on the CPU); pip's cache keeps
# the wheels between venvs. Never run in CI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${BIRNN_TORCH_VENV:-$HOME/.cache/birnn/venv-torch}}"
"$here/../keras3/pinned_venv.sh" torch/setup.sh "$venv" 3.11 "$here/requirements.txt" "$here/constraints.txt"
"$venv/bin/python" - >&2 <<'PY'
import platform
import numpy, onnx, onnxruntime, onnxscript, torch
print("torch/setup.sh: python", platform.python_version(), "torch", torch.__version__,
      "onnx", onnx.__version__, "onnxscript", onnxscript.__version__,
      "onnxruntime", onnxruntime.__version__, "numpy", numpy.__version__)
PY
echo "$venv/bin/python"
