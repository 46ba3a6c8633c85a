#!/usr/bin/env bash
# birnn's trainer against PyTorch 2 (and Keras 3 where its venv exists), back to back with the
# same threads on the real IMDB data: seconds and CPU-seconds per study epoch, their ratios and
# both peak RSS (see train_ratio.py). JSON lines, then a Markdown table, on stdout.
#
#   scripts/bench/train_ratio.sh [--config deep_bilstm,deep_lstm,bilstm] [--threads 2]
#
# Builds birnn into a temporary folder; the IMDB folder is $BIRNN_DATA/imdb (default
# ../shared/data/imdb from the repository root). The PyTorch environment is
# scripts/torch/setup.sh's (created on the first run: several GB); Keras 3 runs when
# scripts/keras3/setup.sh's venv is there ($BIRNN_KERAS3_VENV, default
# $HOME/.cache/birnn/venv-keras3) unless BIRNN_ANCHOR_KERAS3=0. A benchmark: it never fails on
# time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${BIRNN_DATA:-$root/../shared/data}"
export BIRNN_DATA="$data"

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
(cd "$root" && go build -o "$bin/birnn" ./cmd/birnn)

torch_py="$("$here/../torch/setup.sh")"
keras3=()
keras3_venv="${BIRNN_KERAS3_VENV:-$HOME/.cache/birnn/venv-keras3}"
if [[ "${BIRNN_ANCHOR_KERAS3:-1}" != 0 && -x "$keras3_venv/bin/python" ]]; then
	keras3=(--keras3-python "$("$here/../keras3/setup.sh" "$keras3_venv")")
else
	echo "train_ratio: no Keras 3 environment at $keras3_venv (scripts/keras3/setup.sh makes it); skipped" >&2
fi
"$torch_py" "$here/train_ratio.py" --birnn "$bin/birnn" --data "$data/imdb" ${keras3[@]+"${keras3[@]}"} "$@"
