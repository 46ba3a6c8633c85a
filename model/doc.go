// Package model holds a birnn architecture and its weights: the layer spec
// resolved from a configs.Config, named float32 tensors stored in ONNX
// layout (so export is a copy), Keras-style initialisation, the Keras-style
// summary table, the training history and checkpoints.
//
// A model is an embedding followed by LSTM (optionally bidirectional) and
// Dense layers:
//
//	ids [batch, seq] ─embedding→ [batch, seq, dim]
//	  ─lstm_0 (return_sequences)→ [batch, seq, dirs·H]   (concat merge)
//	  ─lstm_1→ [batch, dirs·H]
//	  ─dense_2→ [batch, units]
//
// Weight names and shapes, with i the layer's position in cfg.Model.Layers:
//
//	embedding     [num_words, dim]
//	lstm_<i>.W    [dirs, 4H, in]   ONNX LSTM W, gates i, o, f, c
//	lstm_<i>.R    [dirs, 4H, H]    ONNX LSTM R
//	lstm_<i>.B    [dirs, 8H]       ONNX LSTM B = [Wb, Rb]; Rb stays zero
//	dense_<i>.W   [in, units]      Keras kernel = ONNX MatMul right operand
//	dense_<i>.B   [units]
//
// dirs is 2 for a bidirectional layer (forward first). Keras orders the
// gate blocks of an LSTM kernel i, f, c, o; ONNX block k holds Keras block
// [0, 3, 1, 2][k].
//
// Initialisation follows Keras 2.15: every tensor is drawn in its Keras
// shape (kernel [in, 4H], recurrent kernel [H, 4H], bias [4H]) with Keras's
// fans, then permuted and transposed into ONNX layout. See New for the
// draw order that makes a seed reproduce the same bytes.
//
// Checkpoints (SaveCheckpoint, LoadCheckpoint) are single files in a
// versioned binary format with a SHA-256 trailer; see SaveCheckpoint.
//
// The layer schema lives here and nowhere else: Resolve fills each layer's
// Keras defaults and Layers checks the architecture, including the head
// rule (Dense(1, sigmoid) or Dense(2, softmax): scoring reads P(positive)
// as the last column). configs only decodes layers.
//
// It also holds the contracts the other packages share, each once: the
// ONNX metadata keys of an export (Meta*), the start and OOV ids, the
// label rule (Positive: score > threshold), metrics.json (Metrics,
// ReadMetrics, WriteMetrics), the file names of a run folder and the
// checkpoint State keys an import carries.
//
// What it does not do: train (train), write or read ONNX (export,
// onnximport), or load data (dataset).
//
// References: the ONNX LSTM operator
// (https://onnx.ai/onnx/operators/onnx__LSTM.html); Keras's LSTM,
// Bidirectional, initializers and Model.summary.
package model
