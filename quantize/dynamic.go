package quantize

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/onnx"
)

// MSDomain is the operator domain of DynamicQuantizeLSTM.
const MSDomain = "com.microsoft"

// Options tune Dynamic.
type Options struct {
	// PerTensor gives each weight tensor one scale per direction instead
	// of one per output column (ONNX Runtime's per_channel=False).
	PerTensor bool
	// ReduceRange keeps codes in [−64, 64] (7 bits, ONNX Runtime's
	// reduce_range): ONNX Runtime's int8 kernels on x86 CPUs without VNNI
	// add pairs of 8-bit products in 16 bits and saturate with full-range
	// weights; birnn's engine needs no reduced range.
	ReduceRange bool
}

// Report says what Dynamic did.
type Report struct {
	Quantized []string // names of the LSTM nodes rewritten
	Skipped   []string // LSTM nodes left float32, each with the reason
	// WeightBytes is the size of the recurrent weights before and after.
	WeightBytesBefore, WeightBytesAfter int
}

// ErrNothingToQuantize is returned when a model has no LSTM node whose
// weights can be quantized.
var ErrNothingToQuantize = errors.New("quantize: the model has no LSTM with constant float32 weights (GRU and RNN have no quantized ONNX Runtime operator and stay float32)")

// Dynamic returns a copy of m with every LSTM whose W and R are float32
// initializers (not graph inputs) rewritten as DynamicQuantizeLSTM; m is
// not modified. The com.microsoft opset 1 is imported. LSTMs with the
// layout attribute (which DynamicQuantizeLSTM lacks) or weights that other
// nodes read too are left as they are and listed in the report.
//
// Errors: a malformed initializer of a quantized node, or
// ErrNothingToQuantize.
func Dynamic(m *onnx.ModelProto, opt Options) (*onnx.ModelProto, Report, error) {
	var rep Report
	if m.GetGraph() == nil {
		return nil, rep, fmt.Errorf("quantize: model has no graph")
	}
	out := proto.Clone(m).(*onnx.ModelProto)
	g := out.Graph
	inits := map[string]int{}
	for i, t := range g.Initializer {
		inits[t.GetName()] = i
	}
	graphInputs := map[string]bool{}
	for _, v := range g.Input {
		graphInputs[v.GetName()] = true
	}
	uses := map[string]int{}
	for _, n := range g.Node {
		for _, in := range n.GetInput() {
			uses[in]++
		}
	}
	for _, n := range g.Node {
		if n.GetOpType() != "LSTM" || (n.GetDomain() != "" && n.GetDomain() != "ai.onnx") {
			continue
		}
		label := n.GetName()
		if label == "" && len(n.GetOutput()) > 0 {
			label = "LSTM producing " + n.GetOutput()[0]
		}
		reason := skipReason(n, inits, graphInputs, uses)
		if reason != "" {
			rep.Skipped = append(rep.Skipped, label+": "+reason)
			continue
		}
		if err := rewriteLSTM(g, n, inits, opt, &rep); err != nil {
			return nil, rep, fmt.Errorf("quantize: %s: %w", label, err)
		}
		rep.Quantized = append(rep.Quantized, label)
	}
	if len(rep.Quantized) == 0 {
		return nil, rep, ErrNothingToQuantize
	}
	// Drop the float32 weights nothing reads any more.
	used := map[string]bool{}
	for _, n := range g.Node {
		for _, in := range n.GetInput() {
			used[in] = true
		}
	}
	for _, o := range g.Output {
		used[o.GetName()] = true
	}
	kept := g.Initializer[:0]
	for _, t := range g.Initializer {
		if used[t.GetName()] || graphInputs[t.GetName()] {
			kept = append(kept, t)
		}
	}
	g.Initializer = kept
	hasMS := false
	for _, o := range out.OpsetImport {
		if o.GetDomain() == MSDomain {
			hasMS = true
		}
	}
	if !hasMS {
		out.OpsetImport = append(out.OpsetImport, onnx.Opset(MSDomain, 1))
	}
	return out, rep, nil
}

// skipReason says why LSTM node n cannot be rewritten, or "".
func skipReason(n *onnx.NodeProto, inits map[string]int, graphInputs map[string]bool, uses map[string]int) string {
	in := n.GetInput()
	if len(in) < 3 {
		return "fewer than 3 inputs"
	}
	for _, a := range n.GetAttribute() {
		if a.GetName() == "layout" && a.GetI() != 0 {
			return "layout=1 (DynamicQuantizeLSTM has no layout attribute)"
		}
	}
	for _, name := range in[1:3] {
		if _, ok := inits[name]; !ok || graphInputs[name] {
			return fmt.Sprintf("weight %q is not a constant initializer", name)
		}
		if uses[name] > 1 || in[1] == in[2] {
			return fmt.Sprintf("weight %q is read by other nodes too", name)
		}
	}
	return ""
}

// rewriteLSTM turns n into DynamicQuantizeLSTM in place, adding the
// quantized weights to g.
func rewriteLSTM(g *onnx.GraphProto, n *onnx.NodeProto, inits map[string]int, opt Options, rep *Report) error {
	in := n.GetInput()
	W, R := g.Initializer[inits[in[1]]], g.Initializer[inits[in[2]]]
	w, wDims, err := floats(W)
	if err != nil {
		return err
	}
	r, rDims, err := floats(R)
	if err != nil {
		return err
	}
	if len(wDims) != 3 || len(rDims) != 3 || wDims[0] != rDims[0] || wDims[1] != rDims[1] || wDims[1] != 4*rDims[2] || wDims[1] == 0 {
		return fmt.Errorf("W %v and R %v are not LSTM weights [dirs, 4H, in] and [dirs, 4H, H]", wDims, rDims)
	}
	dirs, G4, inSize, H := wDims[0], wDims[1], wDims[2], rDims[2]
	var added []*onnx.TensorProto
	nScales := 0
	quant := func(name string, v []float32, k int) (string, string, string, error) {
		q, scale := symmetric(v, dirs, G4, k, opt.PerTensor, opt.qmax())
		nScales += len(scale)
		// [dirs, 4H, k] → [dirs, k, 4H]
		qt := make([]int8, len(q))
		for d := range dirs {
			for row := range G4 {
				for p := range k {
					qt[(d*k+p)*G4+row] = q[(d*G4+row)*k+p]
				}
			}
		}
		sdims := []int64{int64(dirs), int64(G4)}
		if opt.PerTensor {
			sdims = sdims[:1]
		}
		tq, err := onnx.MakeTensor(name+"_quantized", []int64{int64(dirs), int64(k), int64(G4)}, qt)
		if err != nil {
			return "", "", "", err
		}
		ts, err := onnx.MakeTensor(name+"_scale", sdims, scale)
		if err != nil {
			return "", "", "", err
		}
		tz, err := onnx.MakeTensor(name+"_zero_point", sdims, make([]int8, len(scale)))
		if err != nil {
			return "", "", "", err
		}
		added = append(added, tq, ts, tz)
		return tq.GetName(), ts.GetName(), tz.GetName(), nil
	}
	wq, wsc, wzp, err := quant(in[1], w, inSize)
	if err != nil {
		return err
	}
	rq, rsc, rzp, err := quant(in[2], r, H)
	if err != nil {
		return err
	}
	for _, t := range added {
		if _, dup := inits[t.GetName()]; dup {
			return fmt.Errorf("the model already has a tensor named %q", t.GetName())
		}
	}
	g.Initializer = append(g.Initializer, added...)
	rep.WeightBytesBefore += 4 * (len(w) + len(r))
	rep.WeightBytesAfter += len(w) + len(r) + 5*nScales // int8 codes, float32 scales and int8 zero points
	inputs := make([]string, 12)
	copy(inputs, in)
	inputs[1], inputs[2] = wq, rq
	inputs[8], inputs[9], inputs[10], inputs[11] = wsc, wzp, rsc, rzp
	n.OpType = proto.String("DynamicQuantizeLSTM")
	n.Domain = proto.String(MSDomain)
	if n.GetName() != "" {
		n.Name = proto.String(n.GetName() + "_quant")
	}
	n.Input = inputs
	return nil
}

// floats returns a float32 initializer's data and dims.
func floats(t *onnx.TensorProto) ([]float32, []int, error) {
	if onnx.TensorProto_DataType(t.GetDataType()) != onnx.TensorProto_FLOAT {
		return nil, nil, fmt.Errorf("weight %q is %v, not FLOAT", t.GetName(), onnx.TensorProto_DataType(t.GetDataType()))
	}
	d, err := onnx.TensorData(t)
	if err != nil {
		return nil, nil, err
	}
	dims, err := onnx.Shape(t)
	if err != nil {
		return nil, nil, err
	}
	v, ok := d.([]float32)
	if !ok {
		return nil, nil, fmt.Errorf("weight %q: unexpected data %T", t.GetName(), d)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, nil, fmt.Errorf("weight %q holds %v", t.GetName(), x)
		}
	}
	return v, dims, nil
}

// qmax is the largest code: 127, or 64 with ReduceRange.
func (o Options) qmax() float32 {
	if o.ReduceRange {
		return 64
	}
	return 127
}

// symmetric quantizes v [dirs, rows, k] to int8 codes in [−qmax, qmax]
// with a scale per (direction, row), or per direction when perTensor:
// scale = max|v|/qmax (1 for all zeros), code = round half to even of
// v/scale.
func symmetric(v []float32, dirs, rows, k int, perTensor bool, qmax float32) ([]int8, []float32) {
	q := make([]int8, len(v))
	var scales []float32
	block := k
	if perTensor {
		block = rows * k
	}
	for start := 0; start < len(v); start += block {
		m := float32(0)
		for _, x := range v[start : start+block] {
			m = max(m, float32(math.Abs(float64(x))))
		}
		s := float32(1)
		if m > 0 {
			s = m / qmax
		}
		for i, x := range v[start : start+block] {
			c := math.RoundToEven(float64(x / s))
			q[start+i] = int8(min(max(c, -float64(qmax)), float64(qmax)))
		}
		scales = append(scales, s)
	}
	return q, scales
}

// File reads the model at in, quantizes it and writes the result to out
// atomically.
func File(in, out string, opt Options) (Report, error) {
	m, err := onnx.ReadModel(in)
	if err != nil {
		return Report{}, err
	}
	q, rep, err := Dynamic(m, opt)
	if err != nil {
		return rep, err
	}
	return rep, onnx.WriteModel(out, q)
}
