#!/usr/bin/env bash
# Create the Python environment of the tritonclient protocol test (cached in
# ~/.cache/birnn/tritonclient-venv) with the pinned tritonclient[http,grpc]
# from PyPI, and print the path of its python:
#
#   TRITON_PY="$(scripts/tritonclient/setup.sh)"
#   BIRNN_BIN=/tmp/birnn "$TRITON_PY" -m pytest -q scripts/tritonclient
#
# Set PYTHON to choose the interpreter (default: python3, 3.9 or newer).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/birnn/tritonclient-venv}"
python="${PYTHON:-python3}"
want="$(grep '^tritonclient==' "$here/requirements.txt" | cut -d= -f3)"

if [[ ! -x "$venv/bin/python" ]]; then
	mkdir -p "$(dirname "$venv")"
	"$python" -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; import tritonclient.http, tritonclient.grpc, pytest; sys.exit(m.version('tritonclient') != '$want')" 2>/dev/null; then
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
"$venv/bin/python" -c 'import importlib.metadata as m, sys; print("tritonclient", m.version("tritonclient"), "grpcio", m.version("grpcio"), file=sys.stderr)'
echo "$venv/bin/python"
