// Package infer runs ONNX models: a graph executor with dynamic shapes,
// the operators that Keras (2 and 3), tf2onnx, PyTorch (both exporters)
// and birnn exports use, and a Session that is safe for concurrent use.
//
//	.onnx ─Load→ every op known for the model's opset and every type
//	       supported, in the main graph and in Loop/Scan/If bodies (all
//	       that is missing is reported at once)
//	     → per graph: every value produced once, no cycles, values read
//	       from enclosing graphs resolved; topological order, initializers
//	       and Constant nodes as tensors, one kernel per node (all once)
//	     → plan (plan.go): exporters' zero-state chains, direction
//	       split-and-join and unread outputs removed, an embedding lookup
//	       folded into the first recurrent layer (rnn_embed.go)
//	Session.Run(inputs) → check names, dtypes, ranks, fixed and symbolic dims
//	     → run kernels in order (ctx checked between nodes), releasing each
//	       intermediate after its last consumer, big buffers back to the
//	       session's pool (bufpool.go) → outputs
//
// A body of Loop, Scan or If is compiled with the model into a graph of its
// own; an iteration is a call of that graph, never a new walk of the
// nodes. Values a body reads from enclosing graphs become implicit inputs
// of the node holding it, so the outer graph orders and frees them like
// any other input.
//
// Keras 3 exports a GRU, a SimpleRNN, a masked LSTM or an LSTM with
// recurrent_dropout as a Loop over the unrolled cell. Such a Loop is
// recognised at load and run on the fused LSTM/GRU/RNN kernel over the
// whole sequence (see loop_rewrite.go for the form, and how it is checked
// at load and at run time); anything else runs as written.
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
// after, e.g. Slice 10, Squeeze/Unsqueeze 13, Split 13 and 18, Reduce* 18).
// By file: elementwise.go (arithmetic, comparison, Where, the common
// activations), unary_ops.go and binary_ops.go (math functions,
// activations with attributes, logic, bitwise, Mod, Pow, variadic
// Max/Min/Sum/Mean), reduce_ops.go, math_ops.go (MatMul, Gemm, Softmax,
// ArgMax/ArgMin), shape_ops.go and index_ops.go (data movement and
// selection), nn_ops.go (Conv, pools, normalisations), einsum.go,
// loss_ops.go, control_flow.go (Loop, Scan, If) and rnn_*.go (LSTM, GRU,
// RNN). FLOAT16 and BFLOAT16 tensors are held as onnx.Float16/BFloat16 bits
// and computed through float32. Package infer/conformance runs the ONNX
// backend node tests; Compare applies tolerances.
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
//
// What it does not do: know about text, vocabularies or labels. Turning
// reviews into ids and scores is package score, one floor up; infer runs
// any graph it supports on tensors.
package infer
