// Package infer runs ONNX models: a graph executor with dynamic shapes, the
// operators that Keras/tf2onnx and birnn exports use, and a Session that is
// safe for concurrent use.
//
//	.onnx ─Load→ validate: ops known for the model's opset, every value
//	       produced once, no cycles, no external data
//	     → topological order, initializers and Constant nodes as tensors,
//	       one Kernel per node (all once)
//	Session.Run(inputs) → check names, dtypes, ranks, fixed and symbolic dims
//	     → run kernels in order (ctx checked between nodes), releasing each
//	       intermediate after its last consumer → outputs
//
// Tensors are dense and row-major (Tensor: DType, Shape, Data as a typed Go
// slice). Elementwise operators broadcast like numpy and are generic over
// all numeric dtypes; every matrix product goes through internal/kernel.Gemm.
//
// Operators follow https://onnx.ai/onnx/operators/ in every opset form that
// the ONNX backend node tests exercise (attributes before an opset, inputs
// after, e.g. Slice 10, Squeeze/Unsqueeze 13, Split 13 and 18). RunNodeTest
// runs one such test; Compare applies its tolerances.
//
// Errors: a model that needs what is not implemented fails at load time
// with a typed error, matched by errors.Is(err, ErrUnsupported):
// *UnsupportedOpError names the node, operator, domain and opset (Loop,
// Scan and If included), *UnsupportedTypeError the value and type (STRING,
// FLOAT16, sequences, optionals). Weights stored outside the file give
// *onnx.ExternalDataError; a broken graph matches ErrInvalidModel. Kernels
// report bad shapes and values as errors; a panic inside one is recovered
// and reported as an internal error, never crashing the process.
//
// What it does not do: know about text, vocabularies or labels. Turning
// reviews into ids and scores is package score, one floor up; infer runs
// any graph it supports on tensors.
package infer
