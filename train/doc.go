// Package train fits birnn models natively in Go: a gorgonia expression
// graph is built from a model's architecture, with one fused operator per
// LSTM layer and direction, and trained with Keras-compatible optimizers.
//
//	ids [batch, seq] ─ByIndices→ [batch·seq, dim]
//	  ─fused LSTM (fwd, rev)→ merge (concat|sum|mul|ave) → … → Dense → logit
//	  ─sigmoid cross-entropy (softplus form)→ loss
//
// The fused LSTM operator runs a whole sequence per call: the input
// projection of every step is one GEMM [batch·seq, in]×[in, 4H], each step
// adds one GEMM h(t−1)·Rᵀ and the shared gate kernel, and gates and cells are
// cached for backpropagation through time. Every matrix product goes through
// internal/kernel, the seam the inference engine uses too.
//
// Keras behaviour being matched (TF 2.15): validation_split takes the last
// rows before shuffling; training rows are reshuffled every epoch;
// recurrent_dropout draws one mask per sequence on h(t−1), scaled 1/(1−p);
// binary cross-entropy is computed from the logit, as Keras does for a
// sigmoid output; Adam adds ε to √v with a bias-corrected learning rate;
// RMSprop uses lr·g/√(v+ε). The embedding's gradient is applied densely
// (Keras uses sparse slices; the updates differ only for words repeated in
// a batch under RMSprop/Adagrad-like accumulators).
//
// Runs are deterministic: the same seed and configuration give the same
// weights bit for bit on one machine (fixed reduction orders, one seeded
// PCG for shuffles and dropout masks). Checkpoints carry the optimizer
// slots and the RNG state, and a run interrupted with SIGINT — mid-epoch
// included — and resumed ends with the same weights as an uninterrupted one.
//
// Run is one training run from a dataset.Source (IMDB, or any other source
// of (ids, label) rows) into a run folder. The optimizers and their Keras
// defaults are this package's (OptimizerDefaults); Resolve checks a whole
// run configuration, each part by its owner (configs.Validate,
// model.Resolve, the optimizer here).
//
// What it does not do: read files of a dataset (dataset), export
// (export), or decide the order of settings (birnn's CLI).
//
// References: https://onnx.ai/onnx/operators/onnx__LSTM.html,
// https://keras.io/api/layers/recurrent_layers/lstm/.
package train
