// Package infer runs ONNX models: a graph executor with dynamic shapes, the
// operators that Keras/tf2onnx and birnn exports use, and a Session API that
// is safe for concurrent use.
//
//	.onnx ─Load→ validate (ops known for the opset, every value produced
//	once, no cycles) → topological order → kernels built once
//	Session.Run(inputs) → check names/dtypes/shapes → run kernels in order,
//	freeing each intermediate after its last consumer → outputs
//
// Operators follow https://onnx.ai/onnx/operators/ for every opset version
// present in the ONNX conformance tests; RunNodeTest runs one such test.
// Models that need what is not implemented (Loop, Scan, If, unknown ops,
// external data) are refused at load time with typed errors.
package infer
