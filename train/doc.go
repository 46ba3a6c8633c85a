// Package train fits birnn models natively in Go: a gorgonia expression
// graph is built from a model's architecture, with one operator per
// recurrent layer (every direction, every time step), and trained with
// Keras-compatible optimizers.
//
//	ids [batch, seq] ─time-major→ embedding gather → [seq·batch, dim]
//	  ─recurrent layer (both directions, merge inside)→ … → Dense → logit
//	  ─sigmoid cross-entropy (softplus form)→ loss
//
// The recurrent operator (seqLayer, with an LSTM cell) runs a whole batch
// of sequences per call, time-major so that a step's rows are contiguous:
// the input projection of every step is one GEMM [seq·batch, in]×[in, 4H]
// per direction; each step adds h(t−1)·Rᵀ with the engine's packed step
// kernel (kernel.GateMatrix) and applies kernel.LSTMForward; gates and
// states are stored once and backward overwrites the gates with ∂L/∂z in
// place. BPTT's weight gradients are GEMMs over all steps at once (∂W =
// ∂zᵀ·x, ∂R = ∂zᵀ·h(t−1), ∂x = ∂z·W). The time loops run as tasks of
// 32 batch rows per direction, the projections and ∂x in blocks of rows,
// ∂W and ∂R in blocks of 48 of their rows, all on kernel.Parallel's
// workers: the cut depends on the shapes alone and every row's arithmetic
// is the same in any block, so results are bit-identical at any thread
// count. Every product goes through internal/kernel, the seam the
// inference engine uses too: the per-step, projection and ∂x products on
// its packed step kernels (kernel.GateMatrix, AVX-512 or AVX2), ∂W and ∂R
// on its SGEMM. Validation and Evaluate run the same layer forwards
// without a graph (inferPass).
//
// gorgonia stays the tape for the model: it holds the parameters and
// their gradients, runs the fused operators (embedding gather, recurrent
// layers, Dense, loss) and gorgonia's own activation nodes in order,
// forward then backward, and adds each gradient into the parameter's dual
// value. What it used to do per time step — Slice/Concat/Add nodes on
// small tensors, ~14 % of a step in copies — and its ByIndices embedding
// (a fresh 3 MB output and 1 MB gradient every step) are bypassed by the
// fused operators, which it sees as one node and one backward node each.
// What gorgonia still costs per study step is about 450–650 small
// allocations (20–26 KB: tensor headers of node values) and the gradient
// accumulation into dual values, together under 2 % of a step's CPU time.
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
// Callbacks (callbacks.go) follow Keras 2.15 too: EarlyStopping (with
// restore_best_weights, which restores only when it stops, as Keras does),
// ReduceLROnPlateau and a CosineDecay schedule evaluated at the
// iterations before each step; the optimizers add Keras's weight_decay
// (decoupled: w −= lr·wd·w; AdamW) and clipnorm / global_clipnorm /
// clipvalue. Their state rides in the checkpoint, so resumed runs decide
// alike. SourceOf maps data.source to a dataset.Source (IMDB, or a
// dataset.Corpus of TSV/CSV/JSONL files or class folders), whose own
// validation split, when it has one, replaces validation_split.
//
// What it does not do: read files of a dataset (dataset), export
// (export), or decide the order of settings (birnn's CLI).
//
// References: https://onnx.ai/onnx/operators/onnx__LSTM.html,
// https://keras.io/api/layers/recurrent_layers/lstm/.
package train
