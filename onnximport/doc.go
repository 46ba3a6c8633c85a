// Package onnximport reads ONNX sentiment models back into trainable birnn
// models: birnn's own exports and Keras/tf2onnx exports of the same layer
// kinds.
//
//	model.onnx ─onnx.ReadModel→ *onnx.ModelProto ─Import→ *model.Model
//
// Import walks the graph in four steps: it refuses operators no birnn
// layer computes (naming the node), finds the embedding Gather, the LSTM
// nodes and the Dense layers, checks that they form one chain and maps
// each (folding the LSTM recurrence bias Rb into Wb, as Keras has one
// bias), and derives the configuration from the weights and the merge
// pattern — or takes it from the model.MetaConfig metadata when present,
// checked against the graph.
//
// What it does not do: write ONNX (export), run graphs (infer), or accept
// graphs beyond embedding → LSTM → Dense (a GRU, a Loop, peepholes, a
// non-zero initial state, masking are refused with an *UnmappedError).
//
// References: the ONNX LSTM operator
// (https://onnx.ai/onnx/operators/onnx__LSTM.html), tf2onnx's LSTM and
// bidirectional rewriters, and Keras's Bidirectional merge modes.
package onnximport
