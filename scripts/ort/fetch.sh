#!/bin/sh
# fetch.sh obtains the ONNX Runtime shared library used as the reference
# engine by infer's parity tests and benchmarks, and prints its path.
#
# The library ships inside the npm package onnxruntime-node. A plain
# `npm install` runs an install script that downloads from elsewhere, so the
# package tarball is fetched with `npm pack` (which runs no scripts) and only
# the Linux x64 library is extracted from it.
#
# Environment:
#   ORT_VERSION     ONNX Runtime version (default 1.30.0)
#   BIRNN_ORT_DIR   destination folder (default $HOME/.cache/birnn/onnxruntime/$ORT_VERSION)
#
# Idempotent: when the library is already there it only prints the path.
# Use it as: export ONNXRUNTIME_LIB="$(scripts/ort/fetch.sh)"
set -eu

version="${ORT_VERSION:-1.30.0}"
dir="${BIRNN_ORT_DIR:-${HOME}/.cache/birnn/onnxruntime/${version}}"
lib="${dir}/libonnxruntime.so.1"
member="package/bin/napi-v6/linux/x64/libonnxruntime.so.1"

if [ -s "${lib}" ]; then
	echo "${lib}"
	exit 0
fi

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*)
	echo "fetch.sh: only linux/x86_64 is supported, not $(uname -s)/$(uname -m)" >&2
	exit 1
	;;
esac

command -v npm >/dev/null 2>&1 || {
	echo "fetch.sh: npm is required (it fetches onnxruntime-node@${version})" >&2
	exit 1
}

mkdir -p "${dir}"
tmp="$(mktemp -d "${dir}/.fetch.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT INT TERM

(cd "${tmp}" && npm pack --silent --ignore-scripts "onnxruntime-node@${version}" >/dev/null)
tarball="$(ls "${tmp}"/onnxruntime-node-*.tgz 2>/dev/null | head -n 1)"
if [ -z "${tarball}" ]; then
	echo "fetch.sh: npm pack produced no tarball for onnxruntime-node@${version}" >&2
	exit 1
fi
tar -xzf "${tarball}" -C "${tmp}" "${member}" || {
	echo "fetch.sh: ${member} not found in $(basename "${tarball}")" >&2
	exit 1
}
# Rename within the same folder so a concurrent reader never sees half a file.
mv "${tmp}/${member}" "${dir}/.libonnxruntime.so.1.tmp"
mv "${dir}/.libonnxruntime.so.1.tmp" "${lib}"
echo "${lib}"
