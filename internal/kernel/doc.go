// Package kernel is the one seam through which every matrix product and
// every LSTM gate computation of birnn passes: the trainer's fused LSTM op
// and the inference engine's LSTM, GRU, RNN, MatMul and Gemm operators all
// call Gemm and the pointwise gate kernels here, so a faster implementation
// (an assembly micro-kernel, a cgo BLAS) lands in both at once.
//
// The default implementation is gonum's pure-Go BLAS. Matrices are dense and
// row-major; leading dimensions are row strides in elements.
//
//	x·Wᵀ (one GEMM per sequence) ─┐
//	h(t−1)·Rᵀ (one GEMM per step) ─┴→ z [batch, 4H] ─LSTMForward→ c(t), h(t)
package kernel
