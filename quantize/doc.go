// Package quantize rewrites a float32 ONNX model into its dynamically
// quantized int8 form, the one ONNX Runtime's quantize_dynamic writes for
// recurrent models, so that the result runs in both ONNX Runtime and birnn's
// engine:
//
//	LSTM(X, W, R, B, …)  W, R float32 initializers
//	  → com.microsoft DynamicQuantizeLSTM(X, Wq, Rq, B, …, W_scale, W_zero_point, R_scale, R_zero_point)
//	    Wq [dirs, in, 4H], Rq [dirs, H, 4H] int8 (transposed against LSTM's),
//	    scales float32 [dirs, 4H] (one per output column, or [dirs] with
//	    Options.PerTensor), zero points int8 zeros: symmetric, round half to
//	    even, codes in [−127, 127] ([−64, 64] with Options.ReduceRange)
//
// Activations are not stored: the engine quantizes them as it runs. Other
// nodes are left float32. Only LSTM has a quantized recurrent operator in
// ONNX Runtime, so GRU and RNN stay float32; the dense head of a sentiment
// model (a MatMul or Gemm of 2·64 weights) is not worth an int8 product.
//
// Reference: onnxruntime/python/tools/quantization (quantize_dynamic,
// operators/lstm.py) and the com.microsoft.DynamicQuantizeLSTM schema.
package quantize
