#!/usr/bin/env bash
# The trainer-speed anchors in one command: PyTorch's seconds per study epoch (deep_bilstm,
# deep_lstm, bilstm; 1 and 2 threads; peak RSS) on the real IMDB data, then Keras 3's where its
# environment exists. JSON lines on stdout (one per run, see anchor.py); progress on stderr.
#
#   scripts/bench/anchors.sh [--config deep_bilstm] [--threads 1,2] [--epochs 1]
#
# The PyTorch environment is scripts/torch/setup.sh's (created on the first run: several GB);
# Keras 3 runs when scripts/keras3/setup.sh's venv is there ($BIRNN_KERAS3_VENV, default
# $HOME/.cache/birnn/venv-keras3). Set BIRNN_ANCHOR_KERAS3=0 to skip it. A benchmark: it
# never fails on time, and the machine's load (load_average_* in each line) says how quiet
# it was.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

torch_py="$("$here/../torch/setup.sh")"
echo "anchors: PyTorch ($torch_py)" >&2
"$torch_py" "$here/torch_anchor.py" "$@"

keras3_venv="${BIRNN_KERAS3_VENV:-$HOME/.cache/birnn/venv-keras3}"
if [[ "${BIRNN_ANCHOR_KERAS3:-1}" != 0 && -x "$keras3_venv/bin/python" ]]; then
	keras3_py="$("$here/../keras3/setup.sh" "$keras3_venv")"
	echo "anchors: Keras 3 ($keras3_py)" >&2
	"$keras3_py" "$here/keras3_anchor.py" "$@"
else
	echo "anchors: no Keras 3 environment at $keras3_venv (scripts/keras3/setup.sh makes it); skipped" >&2
fi
