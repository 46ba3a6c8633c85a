package onnx

// onnx.proto is copied unchanged from the onnx 1.22.0 wheel on PyPI
// (onnx/onnx.proto); regenerate onnx.pb.go with protoc and
// protoc-gen-go v1.36.12 on PATH:
//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/birnn/birnn/onnx onnx.proto
