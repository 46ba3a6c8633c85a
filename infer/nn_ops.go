package infer

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/birnn/birnn/internal/kernel"
	"github.com/birnn/birnn/onnx"
)

// Convolution, pooling and normalisation: what keras.io's Conv1D text
// classifiers and transformer blocks export (Conv on [batch, channels,
// steps] or [batch, channels, 1, steps], MaxPool, GlobalMaxPool,
// GlobalAveragePool, LayerNormalization, BatchNormalization). Tensors are
// [N, C, D1, …, Dk] with any number k of spatial axes; a convolution is an
// im2col gather into a [C/group·∏kernel, ∏out] matrix per batch entry and
// group, then one kernel.Gemm.

func init() {
	registerOp("", "Conv", 1, 0, buildConv)
	registerOp("", "MaxPool", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildPool(n, opset, true) })
	registerOp("", "AveragePool", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildPool(n, opset, false) })
	registerOp("", "GlobalMaxPool", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildGlobalPool(rMax), nil })
	registerOp("", "GlobalAveragePool", 1, 0, func(n *onnx.NodeProto, opset int64) (opKernel, error) { return buildGlobalPool(rMean), nil })
	registerOp("", "BatchNormalization", 1, 0, buildBatchNorm)
	registerOp("", "LayerNormalization", 17, 0, buildLayerNorm)
	registerOp("", "InstanceNormalization", 1, 0, buildInstanceNorm)
	registerOp("", "MeanVarianceNormalization", 9, 0, buildMVN)
	registerOp("", "Hardmax", 1, 0, buildHardmax)
	registerOp("", "LRN", 1, 0, buildLRN)
}

// window is the geometry of a convolution or pooling over k spatial axes.
type window struct {
	autoPad         string
	kernel          []int64 // empty: from the weights (Conv)
	strides, dil    []int64
	pads            []int64 // begin…, end…
	ceil            bool
	countIncludePad bool
}

func readWindow(a *attrSet, pool bool) (window, error) {
	w := window{
		autoPad: a.String("auto_pad", "NOTSET"),
		kernel:  a.Ints("kernel_shape"),
		strides: a.Ints("strides"),
		dil:     a.Ints("dilations"),
		pads:    a.Ints("pads"),
		ceil:    a.Int("ceil_mode", 0) != 0,
	}
	w.countIncludePad = a.Int("count_include_pad", 0) != 0
	if err := a.Err(); err != nil {
		return w, err
	}
	switch w.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID":
	default:
		return w, fmt.Errorf("auto_pad %q is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", w.autoPad)
	}
	if pool && len(w.kernel) == 0 {
		return w, errors.New("attribute kernel_shape is required")
	}
	k := len(w.kernel)
	for name, v := range map[string][]int64{"strides": w.strides, "dilations": w.dil} {
		if k > 0 && v != nil && len(v) != k {
			return w, fmt.Errorf("%s %v has %d entries for a %d-D kernel", name, v, len(v), k)
		}
		for _, x := range v {
			if x < 1 {
				return w, fmt.Errorf("%s %v must be ≥ 1", name, v)
			}
		}
	}
	if k > 0 && w.pads != nil && len(w.pads) != 2*k {
		return w, fmt.Errorf("pads %v need 2×%d entries", w.pads, k)
	}
	for _, x := range append(append([]int64{}, w.pads...), w.kernel...) {
		if x < 0 || x > MaxElements {
			return w, fmt.Errorf("kernel_shape %v and pads %v must be ≥ 0", w.kernel, w.pads)
		}
	}
	return w, nil
}

// geometry resolves w against the input's spatial dims: kernel sizes,
// output dims and the padding before each axis.
func (w window) geometry(in []int, kernelDims []int) (out, padBegin, padEnd []int, err error) {
	k := len(in)
	if len(kernelDims) != k {
		return nil, nil, nil, fmt.Errorf("a %d-D kernel for %d spatial axes", len(kernelDims), k)
	}
	get := func(v []int64, i int, def int64) int64 {
		if v == nil {
			return def
		}
		if i >= len(v) {
			return -1
		}
		return v[i]
	}
	out, padBegin, padEnd = make([]int, k), make([]int, k), make([]int, k)
	for i := 0; i < k; i++ {
		s, d := get(w.strides, i, 1), get(w.dil, i, 1)
		if s < 1 || d < 1 {
			return nil, nil, nil, fmt.Errorf("strides %v and dilations %v do not fit %d spatial axes", w.strides, w.dil, k)
		}
		span := (int64(kernelDims[i])-1)*d + 1
		n := int64(in[i])
		var o, pb, pe int64
		switch w.autoPad {
		case "NOTSET":
			pb, pe = get(w.pads, i, 0), get(w.pads, i+k, 0)
			if pb < 0 || pe < 0 {
				return nil, nil, nil, fmt.Errorf("pads %v do not fit %d spatial axes", w.pads, k)
			}
			num := n + pb + pe - span
			if num < 0 {
				return nil, nil, nil, fmt.Errorf("the kernel (span %d) is larger than padded axis %d (%d)", span, i, n+pb+pe)
			}
			o = num/s + 1
			if w.ceil && num%s != 0 {
				o++
				// The last window must start inside the input or the
				// leading padding.
				if (o-1)*s >= n+pb {
					o--
				}
			}
		case "VALID":
			if n < span {
				return nil, nil, nil, fmt.Errorf("the kernel (span %d) is larger than axis %d (%d)", span, i, n)
			}
			o = (n-span)/s + 1
		default: // SAME_UPPER, SAME_LOWER
			o = (n + s - 1) / s
			total := max(0, (o-1)*s+span-n)
			pb = total / 2
			if w.autoPad == "SAME_LOWER" {
				pb = total - total/2
			}
			pe = total - pb
		}
		if o > MaxElements {
			return nil, nil, nil, fmt.Errorf("output axis %d of %d is too large", i, o)
		}
		out[i], padBegin[i], padEnd[i] = int(o), int(pb), int(pe)
	}
	if _, err := checkSize(out); err != nil {
		return nil, nil, nil, err
	}
	return out, padBegin, padEnd, nil
}

// gatherIndex is, for every kernel offset and output position (row-major
// each), the input position it reads (flat over the spatial axes), or −1
// in the padding.
func (w window) gatherIndex(in, kernelDims, out, padBegin []int) ([]int, error) {
	nk, no := numel(kernelDims), numel(out)
	if _, err := checkSize([]int{nk, no}); err != nil {
		return nil, err
	}
	k := len(in)
	idx := make([]int, nk*no)
	inSt := strides(in)
	koff := make([]int, k)
	forEachIndex(kernelDims, func(kp int, kix []int) {
		for i := 0; i < k; i++ {
			d := 1
			if w.dil != nil {
				d = int(w.dil[i])
			}
			koff[i] = kix[i]*d - padBegin[i]
		}
		row := idx[kp*no : (kp+1)*no]
		forEachIndex(out, func(op int, oix []int) {
			pos := 0
			for i := 0; i < k; i++ {
				s := 1
				if w.strides != nil {
					s = int(w.strides[i])
				}
				c := oix[i]*s + koff[i]
				if c < 0 || c >= in[i] {
					pos = -1
					break
				}
				pos += c * inSt[i]
			}
			row[op] = pos
		})
	})
	return idx, nil
}

func buildConv(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	w, err := readWindow(a, false)
	if err != nil {
		return nil, err
	}
	group := a.Int("group", 1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if group < 1 {
		return nil, fmt.Errorf("group %d must be ≥ 1", group)
	}
	return needing(2, func(in []*Tensor) ([]*Tensor, error) {
		var b *Tensor
		if len(in) > 2 {
			b = in[2]
		}
		switch in[0].Data.(type) {
		case []float32:
			return one(convT[float32](in[0], in[1], b, w, int(group)))
		case []float64:
			return one(convT[float64](in[0], in[1], b, w, int(group)))
		}
		return nil, fmt.Errorf("element type %s is not supported", in[0].DType)
	}), nil
}

func convT[T float32 | float64](x, wt, b *Tensor, w window, group int) (*Tensor, error) {
	if wt.DType != x.DType || (b != nil && b.DType != x.DType) {
		return nil, errors.New("X, W and B must share a type")
	}
	if x.Rank() < 3 || wt.Rank() != x.Rank() {
		return nil, fmt.Errorf("X %v and W %v must both be [N, C, spatial…] of one rank ≥ 3", x.Shape, wt.Shape)
	}
	nb, c, m := x.Shape[0], x.Shape[1], wt.Shape[0]
	if c%group != 0 || m%group != 0 || wt.Shape[1] != c/group {
		return nil, fmt.Errorf("W %v does not fit %d input channels in %d groups", wt.Shape, c, group)
	}
	kdims := wt.Shape[2:]
	if len(w.kernel) > 0 {
		for i, k := range w.kernel {
			if i >= len(kdims) || int64(kdims[i]) != k {
				return nil, fmt.Errorf("kernel_shape %v disagrees with W %v", w.kernel, wt.Shape)
			}
		}
	}
	if b != nil && (b.Rank() != 1 || b.Shape[0] != m) {
		return nil, fmt.Errorf("B %v must be [%d]", b.Shape, m)
	}
	sp := x.Shape[2:]
	out, pb, _, err := w.geometry(sp, kdims)
	if err != nil {
		return nil, err
	}
	idx, err := w.gatherIndex(sp, kdims, out, pb)
	if err != nil {
		return nil, err
	}
	cg, mg := c/group, m/group
	nk, no, ni := numel(kdims), numel(out), numel(sp)
	shape := append([]int{nb, m}, out...)
	if _, err := checkSize(shape); err != nil {
		return nil, err
	}
	if _, err := checkSize([]int{cg * nk, no}); err != nil {
		return nil, err
	}
	y := make([]T, numel(shape))
	xd, wd := x.Data.([]T), wt.Data.([]T)
	col := make([]T, cg*nk*no)
	for bi := 0; bi < nb && no > 0; bi++ {
		for g := 0; g < group; g++ {
			for ci := 0; ci < cg; ci++ {
				src := xd[(bi*c+g*cg+ci)*ni:]
				for kp := 0; kp < nk; kp++ {
					row := col[(ci*nk+kp)*no : (ci*nk+kp+1)*no]
					for op, p := range idx[kp*no : (kp+1)*no] {
						if p >= 0 {
							row[op] = src[p]
						} else {
							row[op] = 0
						}
					}
				}
			}
			dst := y[(bi*m+g*mg)*no : (bi*m+(g+1)*mg)*no]
			if cg*nk == 0 {
				continue
			}
			kernel.Gemm(false, false, mg, no, cg*nk, 1, wd[g*mg*cg*nk:(g+1)*mg*cg*nk], cg*nk, col, no, 0, dst, no)
		}
	}
	if b != nil {
		bd := b.Data.([]T)
		for bi := 0; bi < nb; bi++ {
			for mi := 0; mi < m; mi++ {
				row := y[(bi*m+mi)*no : (bi*m+mi+1)*no]
				for i := range row {
					row[i] += bd[mi]
				}
			}
		}
	}
	return New(shape, y), nil
}

func buildPool(n *onnx.NodeProto, opset int64, isMax bool) (opKernel, error) {
	a := attrs(n)
	w, err := readWindow(a, true)
	if err != nil {
		return nil, err
	}
	order := a.Int("storage_order", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if !isMax && w.dil != nil && opset < 19 {
		return nil, errors.New("AveragePool takes dilations from opset 19")
	}
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		if x.Rank() != len(w.kernel)+2 {
			return nil, fmt.Errorf("input %v must be [N, C] and %d spatial axes", x.Shape, len(w.kernel))
		}
		if x.DType == Float16 || x.DType == BFloat16 {
			f, err := Cast(x, Float)
			if err != nil {
				return nil, err
			}
			outs, err := pool(f, w, isMax, order)
			if err != nil {
				return nil, err
			}
			outs[0], err = Cast(outs[0], x.DType)
			return outs, err
		}
		return pool(x, w, isMax, order)
	}), nil
}

func pool(x *Tensor, w window, isMax bool, order int64) ([]*Tensor, error) {
	switch x.Data.(type) {
	case []float32:
		return poolT[float32](x, w, isMax, order)
	case []float64:
		return poolT[float64](x, w, isMax, order)
	case []int8:
		if isMax {
			return poolT[int8](x, w, isMax, order)
		}
	case []uint8:
		if isMax {
			return poolT[uint8](x, w, isMax, order)
		}
	}
	return nil, fmt.Errorf("element type %s is not supported", x.DType)
}

func poolT[T float32 | float64 | int8 | uint8](x *Tensor, w window, isMax bool, order int64) ([]*Tensor, error) {
	nc, sp := x.Shape[0]*x.Shape[1], x.Shape[2:]
	kdims := make([]int, len(w.kernel))
	for i, k := range w.kernel {
		kdims[i] = int(k)
	}
	out, pb, pe, err := w.geometry(sp, kdims)
	if err != nil {
		return nil, err
	}
	idx, err := w.gatherIndex(sp, kdims, out, pb)
	if err != nil {
		return nil, err
	}
	if order == 1 && len(sp) != 2 {
		return nil, errors.New("storage_order 1 needs two spatial axes")
	}
	nk, no, ni := numel(kdims), numel(out), numel(sp)
	shape := append([]int{x.Shape[0], x.Shape[1]}, out...)
	y := make([]T, nc*no)
	ind := make([]int64, nc*no)
	// Divisors of AveragePool with count_include_pad: the window clipped
	// to the padded input (the extra room ceil_mode adds is not counted).
	var incl []float64
	if !isMax && w.countIncludePad {
		incl = make([]float64, no)
		forEachIndex(out, func(op int, oix []int) {
			cnt := 1
			for i := range oix {
				s, d := 1, 1
				if w.strides != nil {
					s = int(w.strides[i])
				}
				if w.dil != nil {
					d = int(w.dil[i])
				}
				c := 0
				for k := 0; k < kdims[i]; k++ {
					if p := oix[i]*s - pb[i] + k*d; p >= -pb[i] && p < sp[i]+pe[i] {
						c++
					}
				}
				cnt *= c
			}
			incl[op] = float64(cnt)
		})
	}
	xd := x.Data.([]T)
	for ch := 0; ch < nc; ch++ {
		src := xd[ch*ni : (ch+1)*ni]
		for op := 0; op < no; op++ {
			var best T
			bi := -1
			sum, cnt := 0.0, 0
			for kp := 0; kp < nk; kp++ {
				p := idx[kp*no+op]
				if p < 0 {
					continue
				}
				v := src[p]
				if isMax {
					if bi < 0 || v > best {
						best, bi = v, p
					}
				} else {
					sum += float64(v)
					cnt++
				}
			}
			o := ch*no + op
			switch {
			case isMax && bi < 0:
				y[o] = T(math.Inf(-1))
			case isMax:
				y[o] = best
				pos := bi
				if order == 1 {
					pos = (bi%sp[1])*sp[0] + bi/sp[1]
				}
				ind[o] = int64(ch*ni + pos)
			case incl != nil:
				y[o] = T(sum / incl[op])
			case cnt > 0:
				y[o] = T(sum / float64(cnt))
			default:
				y[o] = T(math.NaN())
			}
		}
	}
	return []*Tensor{New(shape, y), New(shape, ind)}, nil
}

func buildGlobalPool(kind redKind) opKernel {
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input %v must be [N, C, spatial…]", x.Shape)
		}
		red := make([]bool, x.Rank())
		for i := 2; i < len(red); i++ {
			red[i] = true
		}
		if !x.DType.float() {
			return nil, fmt.Errorf("input is %s, want a floating-point type", x.DType)
		}
		return one(reduce(x, red, true, kind))
	})
}

// normalize computes (x − mean)/sqrt(var + eps) over runs of n elements
// (x viewed as [outer, n]), then applies a per-position scale and bias
// from sc(i) and bs(i) (i in [0, n)); mean and 1/std per run are returned.
func normalizeRuns[T float32 | float64](x []T, n int, eps float64, scale, bias func(run, i int) float64) (y []T, mean, inv []float64) {
	outer := 0
	if n > 0 {
		outer = len(x) / n
	}
	y = make([]T, len(x))
	mean, inv = make([]float64, outer), make([]float64, outer)
	for o := 0; o < outer; o++ {
		run := x[o*n : (o+1)*n]
		var m float64
		for _, v := range run {
			m += float64(v)
		}
		m /= float64(n)
		var v2 float64
		for _, v := range run {
			d := float64(v) - m
			v2 += d * d
		}
		iv := 1 / math.Sqrt(v2/float64(n)+eps)
		mean[o], inv[o] = m, iv
		for i, v := range run {
			y[o*n+i] = T((float64(v)-m)*iv*scale(o, i) + bias(o, i))
		}
	}
	return y, mean, inv
}

func floatsOf(t *Tensor) ([]float64, error) {
	if t == nil {
		return nil, nil
	}
	d, err := Cast(t, Double)
	if err != nil {
		return nil, err
	}
	return d.Float64s(), nil
}

func buildLayerNorm(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	axis := a.Int("axis", -1)
	eps := float64(a.Float("epsilon", 1e-5))
	a.Int("stash_type", 1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return needing(2, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		inner := x.Shape[ax:]
		nIn := numel(inner)
		params := make([][]float64, 2)
		for j, t := range []*Tensor{in[1], optional(in, 2)} {
			if t == nil {
				continue
			}
			if t.DType != x.DType {
				return nil, fmt.Errorf("Scale and B must be %s like X, got %s", x.DType, t.DType)
			}
			if _, err := broadcastShape(t.Shape, inner); err != nil || t.Rank() > len(inner) {
				return nil, fmt.Errorf("Scale/B %v do not broadcast to the normalised axes %v", t.Shape, inner)
			}
			e, err := expand(t, inner)
			if err != nil || !slices.Equal(e.Shape, inner) {
				return nil, fmt.Errorf("Scale/B %v do not broadcast to the normalised axes %v", t.Shape, inner)
			}
			if params[j], err = floatsOf(e); err != nil {
				return nil, err
			}
		}
		sc := func(_, i int) float64 { return params[0][i] }
		bs := func(_, i int) float64 { return 0 }
		if params[1] != nil {
			bs = func(_, i int) float64 { return params[1][i] }
		}
		statShape := append([]int{}, x.Shape...)
		for i := ax; i < len(statShape); i++ {
			statShape[i] = 1
		}
		var y *Tensor
		var mean, inv []float64
		switch d := x.Data.(type) {
		case []float32:
			var yd []float32
			yd, mean, inv = normalizeRuns(d, nIn, eps, sc, bs)
			y = New(x.Shape, yd)
		case []float64:
			var yd []float64
			yd, mean, inv = normalizeRuns(d, nIn, eps, sc, bs)
			y = New(x.Shape, yd)
		default:
			return nil, fmt.Errorf("input is %s, want FLOAT or DOUBLE", x.DType)
		}
		m, err := Cast(New(statShape, mean), x.DType)
		if err != nil {
			return nil, err
		}
		s, err := Cast(New(statShape, inv), x.DType)
		if err != nil {
			return nil, err
		}
		return []*Tensor{y, m, s}, nil
	}), nil
}

func optional(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

func buildBatchNorm(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	eps := float64(a.Float("epsilon", 1e-5))
	training := a.Int("training_mode", 0) != 0
	isTest := a.Int("is_test", 1)
	spatial := a.Int("spatial", 1)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if training || (opset < 7 && isTest == 0) {
		return nil, fmt.Errorf("%w: BatchNormalization in training mode (inference only)", ErrUnsupported)
	}
	if opset < 9 && spatial == 0 {
		return nil, errors.New("spatial=0 is not supported")
	}
	return needing(5, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		if x.Rank() < 2 {
			return nil, fmt.Errorf("input %v must be [N, C, …]", x.Shape)
		}
		c := x.Shape[1]
		p := make([][]float64, 4)
		for j, t := range in[1:5] {
			if t.Len() != c {
				return nil, fmt.Errorf("input %d %v must hold %d channels", j+1, t.Shape, c)
			}
			var err error
			if p[j], err = floatsOf(t); err != nil {
				return nil, err
			}
		}
		inner := numel(x.Shape[2:])
		xf, err := floatsOf(x)
		if err != nil {
			return nil, err
		}
		y := make([]float64, len(xf))
		for i, v := range xf {
			ch := (i / inner) % c
			y[i] = (v-p[2][ch])/math.Sqrt(p[3][ch]+eps)*p[0][ch] + p[1][ch]
		}
		yt, err := Cast(New(x.Shape, y), x.DType)
		if err != nil {
			return nil, err
		}
		return []*Tensor{yt}, nil
	}), nil
}

func buildInstanceNorm(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	eps := float64(a.Float("epsilon", 1e-5))
	if err := a.Err(); err != nil {
		return nil, err
	}
	return needing(3, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		if x.Rank() < 3 {
			return nil, fmt.Errorf("input %v must be [N, C, spatial…]", x.Shape)
		}
		c := x.Shape[1]
		sc, err := floatsOf(in[1])
		if err != nil {
			return nil, err
		}
		bs, err := floatsOf(in[2])
		if err != nil {
			return nil, err
		}
		if len(sc) != c || len(bs) != c {
			return nil, fmt.Errorf("scale %v and B %v must hold %d channels", in[1].Shape, in[2].Shape, c)
		}
		inner := numel(x.Shape[2:])
		s := func(run, _ int) float64 { return sc[run%c] }
		b := func(run, _ int) float64 { return bs[run%c] }
		switch d := x.Data.(type) {
		case []float32:
			y, _, _ := normalizeRuns(d, inner, eps, s, b)
			return []*Tensor{New(x.Shape, y)}, nil
		case []float64:
			y, _, _ := normalizeRuns(d, inner, eps, s, b)
			return []*Tensor{New(x.Shape, y)}, nil
		}
		return nil, fmt.Errorf("input is %s, want FLOAT or DOUBLE", x.DType)
	}), nil
}

func buildMVN(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	axes := a.Ints("axes")
	if err := a.Err(); err != nil {
		return nil, err
	}
	if axes == nil {
		axes = []int64{0, 2, 3}
	}
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		red := make([]bool, x.Rank())
		for _, ax := range axes {
			i, err := normAxis(ax, x.Rank())
			if err != nil {
				return nil, err
			}
			red[i] = true
		}
		// (x − E[x]) / sqrt(E[x²] − E[x]² + 1e-9), the operator's function body.
		mean, err := reduce(x, red, true, rMean)
		if err != nil {
			return nil, err
		}
		sq, err := arith(opMul, x, x)
		if err != nil {
			return nil, err
		}
		meanSq, err := reduce(sq, red, true, rMean)
		if err != nil {
			return nil, err
		}
		m2, err := arith(opMul, mean, mean)
		if err != nil {
			return nil, err
		}
		v, err := arith(opSub, meanSq, m2)
		if err != nil {
			return nil, err
		}
		sd, err := mapFloat(v, func(f float64) float64 { return math.Sqrt(f) + 1e-9 })
		if err != nil {
			return nil, err
		}
		centered, err := arith(opSub, x, mean)
		if err != nil {
			return nil, err
		}
		return one(arith(opDiv, centered, sd))
	}), nil
}

func buildHardmax(n *onnx.NodeProto, opset int64) (opKernel, error) {
	return alongAxis(n, opset, func(x *Tensor, outer, dim, inner int) ([]*Tensor, error) {
		xf, err := floatsOf(x)
		if err != nil {
			return nil, err
		}
		y := make([]float64, len(xf))
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				base, best := o*dim*inner+i, -1
				for j := 0; j < dim; j++ {
					if best < 0 || xf[base+j*inner] > xf[base+best*inner] {
						best = j
					}
				}
				if best >= 0 {
					y[base+best*inner] = 1
				}
			}
		}
		return one(Cast(New(x.Shape, y), x.DType))
	})
}

func buildLRN(n *onnx.NodeProto, opset int64) (opKernel, error) {
	a := attrs(n)
	alpha, beta, bias := float64(a.Float("alpha", 1e-4)), float64(a.Float("beta", 0.75)), float64(a.Float("bias", 1))
	size := a.Int("size", 0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, errors.New("attribute size (≥ 1) is required")
	}
	return needing(1, func(in []*Tensor) ([]*Tensor, error) {
		x := in[0]
		if x.Rank() < 3 {
			return nil, fmt.Errorf("input %v must be [N, C, spatial…]", x.Shape)
		}
		xf, err := floatsOf(x)
		if err != nil {
			return nil, err
		}
		c, inner := x.Shape[1], numel(x.Shape[2:])
		lo, hi := int((size-1)/2), int((size-1)-(size-1)/2)
		y := make([]float64, len(xf))
		for i, v := range xf {
			ch := (i / inner) % c
			base := i - ch*inner
			var sq float64
			for k := max(0, ch-lo); k <= min(c-1, ch+hi); k++ {
				u := xf[base+k*inner]
				sq += u * u
			}
			y[i] = v / math.Pow(bias+alpha/float64(size)*sq, beta)
		}
		return one(Cast(New(x.Shape, y), x.DType))
	}), nil
}
