// Package export writes birnn models as ONNX.
//
//	*model.Model ─Model→ *onnx.ModelProto ─onnx.WriteModel→ model.onnx
//
// Model writes the graph tf2onnx writes for the same Keras model: Gather
// (embedding), Transpose to time-major, one LSTM node per layer (a Keras
// Bidirectional layer is one LSTM with direction "bidirectional"), the
// direction merge, MatMul + Add and the head's activation. Weights are
// already in ONNX layout in a model.Model (gate order i, o, f, c), so the
// export copies them. The data settings a scorer needs (vocabulary size,
// padding, tokenizer), the configuration, the test metrics and the word
// index's digest travel in metadata_props under the model.Meta* keys.
// OptionsOf reads those Options back from a file, so that a model imported
// from a birnn export (package onnximport) exports to the same bytes.
// Checkpoint exports a checkpoint file with its metrics and word-index
// digest found where birnn train and birnn import leave them.
//
// What it does not do: read ONNX back into a model (onnximport), run a
// graph (infer), or decide metadata key names (model owns them).
//
// References: the ONNX LSTM operator (https://onnx.ai/onnx/operators/onnx__LSTM.html),
// Keras's Bidirectional wrapper, and tf2onnx's LSTM and bidirectional
// rewriters.
package export
