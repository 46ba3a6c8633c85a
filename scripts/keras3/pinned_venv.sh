#!/usr/bin/env bash
# The shared step of setup.sh, setup_check.sh and scripts/torch/setup.sh: create the venv once
# and (re)install its pinned requirements when they changed since the last install.
#
#   pinned_venv.sh NAME VENV PY_VERSION REQUIREMENTS [CONSTRAINTS]
#
# NAME prefixes the messages (all on stderr). PY_VERSION is the "major.minor" the interpreter
# must be ("" for any). The interpreter is $PYTHON, else python$PY_VERSION, else python3.
set -euo pipefail
name="$1" venv="$2" want_version="$3" req="$4" cons="${5:-}"

if [[ -n "${PYTHON:-}" ]]; then
	python="$PYTHON"
else
	python="$(command -v "python$want_version" || command -v python3)"
fi
if [[ ! -x "$venv/bin/python" ]]; then
	version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
	if [[ -n "$want_version" && "$version" != "$want_version" ]]; then
		echo "$name: need Python $want_version, $python is $version (set PYTHON=...)" >&2
		exit 1
	fi
	mkdir -p "$(dirname "$venv")"
	"$python" -m venv "$venv" >&2
fi
stamp="$venv/.birnn-requirements"
want="$(cat "$req" ${cons:+"$cons"} | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
	echo "$name: installing $(basename "$req") into $venv" >&2
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
		-r "$req" ${cons:+-c "$cons"} >&2
	"$venv/bin/python" -m pip check >&2
	echo "$want" >"$stamp"
fi
