// Package kernel is the one seam through which every matrix product and
// every LSTM gate computation of birnn passes: the trainer's fused LSTM op
// and the inference engine's LSTM, GRU, RNN, MatMul and Gemm operators all
// call Gemm and the pointwise gate kernels here, so a faster implementation
// lands in both at once.
//
// float32 products run on an AVX2+FMA micro-kernel (sgemm_amd64.s, 6×16
// tiles over packed panels; PackB/GemmPacked let a caller pack a weight
// matrix once and reuse it every step); float64 products, other CPUs and the
// `purego` build tag use gonum's pure-Go BLAS. Float32Impl names the path in
// use. Matrices are dense and row-major; leading dimensions are row strides
// in elements.
//
// The LSTM gate kernels (ONNX gate order i, o, f, c) are LSTMForward — for
// float32 the vectorised LSTMForward32 — and its adjoint LSTMBackward; the
// activation table of the ONNX recurrent operators is in activation.go.
//
//	x·Wᵀ (one GEMM per sequence) ─┐
//	h(t−1)·Rᵀ (one GEMM per step) ─┴→ z [batch, 4H] ─LSTMForward→ c(t), h(t)
package kernel
