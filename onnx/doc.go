// Package onnx holds the ONNX protobuf types (generated from the official
// onnx.proto of onnx 1.22.0) and the small amount of code every other part of
// birnn needs around them: reading and atomically writing model files,
// converting TensorProto values to and from Go slices, and building graphs.
//
//	file.onnx ─ReadModel/DecodeModel→ *ModelProto ─WriteModel→ file.onnx
//	*TensorProto ─TensorData→ []float32, []int64, …   Go slice ─MakeTensor→ *TensorProto
//	MakeNode, MakeValueInfo, MakeGraph, MakeModel → *ModelProto (exporters, tests)
//
// Tensor data is little-endian, read either from raw_data or from the typed
// fields (float_data; int32_data, which also carries int8, int16, uint8,
// uint16, bool and float16; int64_data; double_data; uint64_data, which also
// carries uint32). Tensors whose data lives in files beside the model
// (data_location EXTERNAL: location, offset, length) are read through
// ExternalData, which opens files only inside the model's folder (an
// os.Root: absolute locations, "..", and symbolic links out of the folder
// are refused with ErrExternalLocation) and memory-maps them; ReadModel
// inlines them. String tensors are reported with *UnsupportedTypeError
// rather than decoded.
//
// References: https://onnx.ai/onnx/repo-docs/IR.html and onnx/onnx.proto.
package onnx
