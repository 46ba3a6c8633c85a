package infer

import (
	"context"
	"fmt"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/onnx"
)

// DynamicQuantizeLSTM (domain com.microsoft, version 1) is ONNX Runtime's
// LSTM with int8 weights, the node its quantize_dynamic (and birnn
// quantize) writes:
//
//	inputs  X, W [dirs, in, 4H], R [dirs, H, 4H] (int8, transposed against
//	        LSTM's), B, sequence_lens, initial_h, initial_c, P, W_scale,
//	        W_zero_point, R_scale, R_zero_point
//	        scales float32 [dirs] (per tensor) or [dirs, 4H] (per column);
//	        zero points int8, all zero (symmetric weights)
//	outputs Y, Y_h, Y_c as LSTM's; attributes LSTM's except layout
//
// Activations are quantized when they are used (X before the input
// product, h before each recurrent product), row by row; see
// internal/kernel's qrecurrent.go. With the default activations and no
// clip, input_forget or peepholes the int8 fused kernels run; otherwise the
// weights are dequantized and the float32 cells run.

func init() {
	registerOp("com.microsoft", "DynamicQuantizeLSTM", 1, 0, buildDynamicQuantizeLSTM)
}

// qLSTMOp is a built DynamicQuantizeLSTM node.
type qLSTMOp struct {
	op *rnnOp // attributes, validated as LSTM's
	// fixed holds the packed weights when W, R, their scales and zero
	// points and B are session constants.
	fixed *qLSTMPacked
}

// qLSTMPacked is the weights of a run, in both forms the op may need.
type qLSTMPacked struct {
	in      [12]*Tensor // the tensors they were built from (W, R, B, scales, zero points)
	fused   *fusedWeights
	w, r, b []float32 // dequantized, ONNX LSTM layout, for the general cells
}

func buildDynamicQuantizeLSTM(n *onnx.NodeProto, opset int64) (opKernel, error) {
	if len(n.GetInput()) < 3 || len(n.GetInput()) > 12 {
		return nil, fmt.Errorf("DynamicQuantizeLSTM takes 3 to 12 inputs, node lists %d", len(n.GetInput()))
	}
	if len(n.GetInput()) > 8 && len(n.GetInput()) < 12 {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: W_scale, W_zero_point, R_scale and R_zero_point come together, node lists %d inputs", len(n.GetInput()))
	}
	plain := onnx.MakeNode(n.GetName(), "LSTM", n.GetInput()[:min(8, len(n.GetInput()))], n.GetOutput())
	plain.Attribute = n.GetAttribute()
	if a := attrs(n); a.Has("layout") {
		return nil, fmt.Errorf("DynamicQuantizeLSTM has no layout attribute")
	}
	k, err := buildRNNOp(plain, 14, kindLSTM)
	if err != nil {
		return nil, err
	}
	return &qLSTMOp{op: k.(*rnnOp)}, nil
}

// prepare packs the weights once when every weight input is a session
// constant.
func (q *qLSTMOp) prepare(consts []*Tensor) {
	if len(consts) < 12 {
		return
	}
	for _, i := range []int{1, 2, 8, 9, 10, 11} {
		if consts[i] == nil {
			return
		}
	}
	var in [12]*Tensor
	copy(in[:], consts)
	if consts[3] == nil {
		in[3] = nil // absent, or fed at run time: then the cache never matches
	}
	pk, err := q.pack(in)
	if err != nil {
		return // Run reports it
	}
	q.fixed = pk
}

func (q *qLSTMOp) Run(ctx context.Context, in []*Tensor) ([]*Tensor, error) {
	op := q.op
	if len(in) < 12 || in[0] == nil || in[1] == nil || in[2] == nil || in[8] == nil || in[9] == nil || in[10] == nil || in[11] == nil {
		return nil, fmt.Errorf("DynamicQuantizeLSTM needs X, W, R, W_scale, W_zero_point, R_scale and R_zero_point")
	}
	switch in[0].Data.(type) {
	case []float32, *embedIDs:
	default:
		return nil, fmt.Errorf("DynamicQuantizeLSTM: X must be float32, got %v", in[0].DType)
	}
	var key [12]*Tensor
	copy(key[:], in)
	pk := q.fixed
	if pk == nil || !pk.matches(key) {
		var err error
		if pk, err = q.pack(key); err != nil {
			return nil, err
		}
	}
	H := pk.fused.l.H
	prob, err := newRNNProblem[float32](op, in, H, poolFrom(ctx))
	if err != nil {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: %w", err)
	}
	if prob.in != pk.fused.dirs[0].qw.K {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: X has %d features, W expects %d", prob.in, pk.fused.dirs[0].qw.K)
	}
	var p []float32
	if t := rnnInput(in, 7); t != nil {
		if p, err = rnnFloats[float32](t, "P", op.dirs, 3*H); err != nil {
			return nil, fmt.Errorf("DynamicQuantizeLSTM: %w", err)
		}
	}
	threads := threadsFrom(ctx)
	if op.fusable() && p == nil && prob.seq > 0 && prob.batch > 0 {
		if prob.emb != nil && prob.emb.fw != pk.fused {
			return nil, fmt.Errorf("DynamicQuantizeLSTM: internal error: folded embedding made with other weights")
		}
		prob.ycat, prob.yhcat = op.yCat, op.yhCat
		runFused(prob, kindLSTM, false, pk.fused, threads)
	} else if prob.emb != nil {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: internal error: folded embedding off the fused path")
	} else {
		// The general cells on the dequantized weights; they are not
		// session constants, so nothing is cached for them.
		runCells(op, prob, pk.w, pk.r, pk.b, p, nil, nil, threads)
	}
	return rnnOutputs(op, prob), nil
}

func (pk *qLSTMPacked) matches(in [12]*Tensor) bool {
	for _, i := range []int{1, 2, 3, 8, 9, 10, 11} {
		if pk.in[i] != in[i] {
			return false
		}
	}
	return true
}

// pack validates the weight inputs and lays them out for the int8 kernels,
// with a dequantized copy for the general cells.
func (q *qLSTMOp) pack(in [12]*Tensor) (*qLSTMPacked, error) {
	op := q.op
	dirs := op.dirs
	W, R := in[1], in[2]
	if len(W.Shape) != 3 || len(R.Shape) != 3 {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: W and R must be 3-D, got %v and %v", W.Shape, R.Shape)
	}
	H := op.hidden
	if H == 0 {
		H = R.Shape[1]
	}
	inSize := W.Shape[1]
	if H <= 0 {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: hidden size is %d", H)
	}
	if _, ok := rnnCheckedProd(dirs, 4, H, max(H, inSize, 2)); !ok {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: hidden size %d and input size %d are too large", H, inSize)
	}
	w, err := qInt8s(W, "W", dirs, inSize, 4*H)
	if err != nil {
		return nil, err
	}
	r, err := qInt8s(R, "R", dirs, H, 4*H)
	if err != nil {
		return nil, err
	}
	ws, err := qScales(in[8], in[9], "W", dirs, 4*H)
	if err != nil {
		return nil, err
	}
	rs, err := qScales(in[10], in[11], "R", dirs, 4*H)
	if err != nil {
		return nil, err
	}
	var b []float32
	if in[3] != nil {
		if b, err = rnnFloats[float32](in[3], "B", dirs, 8*H); err != nil {
			return nil, fmt.Errorf("DynamicQuantizeLSTM: %w", err)
		}
	}
	pk := &qLSTMPacked{in: in}
	// Transpose to ONNX LSTM's row order (row = gate unit) for the
	// kernels, and dequantize for the general cells.
	pk.w, pk.r = make([]float32, dirs*4*H*inSize), make([]float32, dirs*4*H*H)
	wq, rq := make([]int8, 4*H*inSize), make([]int8, 4*H*H)
	lx := kernel.NewGates(4, H)
	fw := &fusedWeights{l: lx, dirs: make([]fusedDir, dirs)}
	for d := range dirs {
		for row := range 4 * H {
			for p := range inSize {
				v := w[(d*inSize+p)*4*H+row]
				wq[row*inSize+p] = v
				pk.w[(d*4*H+row)*inSize+p] = float32(v) * ws[d*4*H+row]
			}
			for p := range H {
				v := r[(d*H+p)*4*H+row]
				rq[row*H+p] = v
				pk.r[(d*4*H+row)*H+p] = float32(v) * rs[d*4*H+row]
			}
		}
		fw.dirs[d] = fusedDir{
			qw: kernel.NewQGateMatrix(lx, wq, ws[d*4*H:(d+1)*4*H], inSize),
			qr: kernel.NewQGateMatrix(lx, rq, rs[d*4*H:(d+1)*4*H], H),
		}
		fw.dirs[d].xbias, _ = fusedXBias(kindLSTM, lx, b, d)
	}
	pk.fused = fw
	pk.b = b
	return pk, nil
}

// qInt8s returns t's int8 data after checking its shape.
func qInt8s(t *Tensor, name string, shape ...int) ([]int8, error) {
	d, ok := t.Data.([]int8)
	if !ok {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: %s must be int8 (uint8 weights are not supported), got %v", name, t.DType)
	}
	if !rnnSameShape(t.Shape, shape) || len(d) != rnnProd(shape) {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: %s must have shape %v, got %v", name, shape, t.Shape)
	}
	return d, nil
}

// qScales returns the per-column scales [dirs·cols] of a weight from its
// scale (float32 [dirs] or [dirs, cols]) and zero point (int8, same shape,
// all zero).
func qScales(scale, zp *Tensor, name string, dirs, cols int) ([]float32, error) {
	s, ok := scale.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: %s_scale must be float32, got %v", name, scale.DType)
	}
	perCol := rnnSameShape(scale.Shape, []int{dirs, cols})
	if !perCol && !rnnSameShape(scale.Shape, []int{dirs}) || len(s) != rnnProd(scale.Shape) {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: %s_scale must have shape [%d] or [%d, %d], got %v", name, dirs, dirs, cols, scale.Shape)
	}
	z, ok := zp.Data.([]int8)
	if !ok {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: %s_zero_point must be int8, got %v", name, zp.DType)
	}
	if !rnnSameShape(zp.Shape, scale.Shape) || len(z) != len(s) {
		return nil, fmt.Errorf("DynamicQuantizeLSTM: %s_zero_point must have the shape of %s_scale %v, got %v", name, name, scale.Shape, zp.Shape)
	}
	for i, v := range z {
		if v != 0 {
			return nil, fmt.Errorf("DynamicQuantizeLSTM: %s_zero_point[%d] = %d: only symmetric int8 weights (zero point 0) are supported", name, i, v)
		}
	}
	out := make([]float32, dirs*cols)
	for d := range dirs {
		for j := range cols {
			v := s[d]
			if perCol {
				v = s[d*cols+j]
			}
			if !(v > 0) || v != v {
				return nil, fmt.Errorf("DynamicQuantizeLSTM: %s_scale holds %v; scales must be positive", name, v)
			}
			out[d*cols+j] = v
		}
	}
	return out, nil
}
