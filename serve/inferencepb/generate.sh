#!/usr/bin/env bash
# Regenerate grpc_predict_v2.pb.go and grpc_predict_v2_grpc.pb.go from
# grpc_predict_v2.proto (KServe's published Open Inference Protocol v2
# definition, kept unmodified) with pinned tools: protoc from PyPI's
# grpcio-tools, protoc-gen-go and protoc-gen-go-grpc from the Go module
# proxy, all cached in ~/.cache/birnn.
#
#   go generate ./serve/inferencepb
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

GRPCIO_TOOLS=1.85.1
PROTOC_GEN_GO=v1.36.12
PROTOC_GEN_GO_GRPC=v1.6.2

cache="${XDG_CACHE_HOME:-$HOME/.cache}/birnn"
venv="$cache/protoc-venv"
bin="$cache/protoc-bin-$PROTOC_GEN_GO-$PROTOC_GEN_GO_GRPC"
if ! "$venv/bin/python" -c "import grpc_tools, importlib.metadata as m, sys; sys.exit(m.version('grpcio-tools') != '$GRPCIO_TOOLS')" 2>/dev/null; then
	"${PYTHON:-python3}" -m venv "$venv"
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "grpcio-tools==$GRPCIO_TOOLS"
fi
if [[ ! -x "$bin/protoc-gen-go" || ! -x "$bin/protoc-gen-go-grpc" ]]; then
	GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO"
	GOBIN="$bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC"
fi

pkg="github.com/birnn/birnn/serve/inferencepb"
PATH="$bin:$PATH" "$venv/bin/python" -m grpc_tools.protoc -I. \
	--go_out=. --go_opt=paths=source_relative --go_opt="Mgrpc_predict_v2.proto=$pkg;inferencepb" \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative --go-grpc_opt="Mgrpc_predict_v2.proto=$pkg;inferencepb" \
	grpc_predict_v2.proto
