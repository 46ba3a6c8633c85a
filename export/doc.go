// Package export converts between birnn models and ONNX.
//
//	*model.Model ─Model→ *onnx.ModelProto ─onnx.WriteModel→ model.onnx
//	model.onnx ─onnx.ReadModel→ *onnx.ModelProto ─Import→ *model.Model
//
// Model writes the graph tf2onnx writes for the same Keras model: Gather
// (embedding), Transpose to time-major, one LSTM node per layer (a Keras
// Bidirectional layer is one LSTM with direction "bidirectional"), the
// direction merge, MatMul + Add and the head's activation. Weights are
// already in ONNX layout in a model.Model (gate order i, o, f, c), so the
// export copies them. The data settings a scorer needs (vocabulary size,
// padding, tokenizer) travel in metadata_props under "birnn.*".
//
// Import walks a graph back into a trainable model: birnn's own exports and
// Keras/tf2onnx exports of the same layer kinds. It finds the embedding
// Gather, the LSTM chain and the Dense layers, folds the LSTM recurrence
// bias Rb into Wb (birnn keeps Rb zero, as Keras has one bias), and derives
// the configuration from the weights and the merge pattern, or takes it from
// birnn.config when present.
//
// References: the ONNX LSTM operator (https://onnx.ai/onnx/operators/onnx__LSTM.html),
// Keras's Bidirectional wrapper, and tf2onnx's LSTM and bidirectional
// rewriters.
package export
