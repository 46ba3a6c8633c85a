// Package infer runs ONNX models: a graph executor with dynamic shapes, the
// operators that Keras/tf2onnx and birnn exports use, and a Session that is
// safe for concurrent use.
//
//	.onnx ─Load→ every op known for the model's opset and every type
//	       supported, in the main graph and in Loop/Scan/If bodies (all
//	       that is missing is reported at once)
//	     → per graph: every value produced once, no cycles, values read
//	       from enclosing graphs resolved; topological order, initializers
//	       and Constant nodes as tensors, one kernel per node (all once)
//	Session.Run(inputs) → check names, dtypes, ranks, fixed and symbolic dims
//	     → run kernels in order (ctx checked between nodes), releasing each
//	       intermediate after its last consumer → outputs
//
// A body of Loop, Scan or If is compiled with the model into a graph of its
// own; an iteration is a call of that graph, never a new walk of the
// nodes. Values a body reads from enclosing graphs become implicit inputs
// of the node holding it, so the outer graph orders and frees them like
// any other input.
//
// Weights a model keeps in files beside it (PyTorch's model.onnx.data:
// data_location EXTERNAL with location, offset, length) are read from the
// model's folder by Load and LoadBytesFrom, memory-mapped while the model
// loads (onnx.ExternalData); a location outside the folder is refused.
// Describe reports what any well-formed model holds — inputs, outputs,
// operators of every body, parameters, data files — and what of it the
// engine cannot run, without needing to run it.
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
// with one *UnsupportedError, matched by errors.Is(err, ErrUnsupported),
// that lists every missing operator once (*UnsupportedOpError: operator,
// domain, opset, node count, first node, and the Loop/Scan/If bodies
// holding it) and every value of an unsupported type
// (*UnsupportedTypeError: STRING, sequences, optionals). A broken graph
// matches ErrInvalidModel. Kernels report bad shapes and values as errors;
// a panic inside one is recovered and reported as an internal error, never
// crashing the process.
package infer
