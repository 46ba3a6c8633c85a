package export

import (
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// seqLens returns (building it once) sequence_lens [batch] int32: the
// number of non-zero ids of each row, which with post padding (the only
// padding model.Layers admits with mask_zero) is the length of the review
// — Keras's mask_zero.
func (b *builder) seqLens() string {
	if b.lens != "" {
		return b.lens
	}
	b.node("Greater", "mask/Greater", []string{b.ids, b.int32Scalar("const/zero_i32", 0)}, []string{"mask/valid"})
	b.node("Cast", "mask/Cast", []string{"mask/valid"}, []string{"mask/valid_i32"}, onnx.AttrInt("to", int64(onnx.TensorProto_INT32)))
	b.node("ReduceSum", "mask/ReduceSum", []string{"mask/valid_i32", b.ints("const/axes_1", 1)}, []string{"mask/sequence_lens"},
		onnx.AttrInt("keepdims", 0))
	b.lens = "mask/sequence_lens"
	return b.lens
}

// timeMask returns (building it once) the mask [seq, batch, 1] as bool.
func (b *builder) timeMask() string {
	if b.mask != "" {
		return b.mask
	}
	b.seqLens()
	b.node("Transpose", "mask/Transpose", []string{"mask/valid"}, []string{"mask/valid_tm"}, onnx.AttrInts("perm", 1, 0))
	b.node("Unsqueeze", "mask/Unsqueeze", []string{"mask/valid_tm", b.ints("const/axes_2", 2)}, []string{"mask/time_major"})
	b.mask = "mask/time_major"
	return b.mask
}

// int32Scalar adds (once) an int32 scalar initializer named name.
func (b *builder) int32Scalar(name string, v int32) string {
	if !b.consts[name] {
		t, err := onnx.MakeTensor(name, nil, []int32{v})
		if err != nil {
			panic(err)
		}
		b.inits = append(b.inits, t)
		b.consts[name] = true
	}
	return name
}

// reduce emits op (ReduceMax, ReduceMean, ReduceSum) over axis 0 of x
// without keeping it: axes is an attribute before opset 18 for ReduceMax
// and ReduceMean, an input from 18 on (and for ReduceSum from 13).
func (b *builder) reduce(op, name, x, out string) {
	if op == "ReduceSum" || b.opset >= 18 {
		b.node(op, name, []string{x, b.ints("const/axes_0", 0)}, []string{out}, onnx.AttrInt("keepdims", 0))
		return
	}
	b.node(op, name, []string{x}, []string{out}, onnx.AttrInts("axes", 0), onnx.AttrInt("keepdims", 0))
}

// pool emits a global max or average pool over time of x [seq, batch, W]
// and returns [batch, W]. Masked (mask_zero), it pools the valid steps
// only: the average is Σ mask·x / max(Σ mask, 1), Keras's masked
// GlobalAveragePooling1D (a row with no valid step gives 0 rather than
// Keras's 0/0); the max is max over steps of Where(mask, x, −3.4e38),
// times min(Σ mask, 1) so that a row with no valid step gives 0 too.
func (b *builder) pool(l model.LayerSpec, x string) string {
	p := l.Name + "/"
	op := "ReduceMax"
	if l.Kind == model.KindGlobalAveragePool {
		op = "ReduceMean"
	}
	if !l.Masked {
		b.reduce(op, p+op, x, p+"output")
		return p + "output"
	}
	m := b.timeMask()
	if !b.consts["mask/count"] {
		b.consts["mask/count"] = true
		b.node("Cast", "mask/CastFloat", []string{m}, []string{"mask/float"}, onnx.AttrInt("to", int64(onnx.TensorProto_FLOAT)))
		b.reduce("ReduceSum", "mask/Count", "mask/float", "mask/count") // [batch, 1]
	}
	if l.Kind == model.KindGlobalAveragePool {
		b.node("Mul", p+"Mul", []string{x, "mask/float"}, []string{p + "masked"})
		b.reduce("ReduceSum", p+"ReduceSum", p+"masked", p+"sum")
		b.node("Max", p+"Max", []string{"mask/count", b.scalar("const/one", 1)}, []string{p + "count"})
		b.node("Div", p+"Div", []string{p + "sum", p + "count"}, []string{p + "output"})
		return p + "output"
	}
	b.node("Where", p+"Where", []string{m, x, b.scalar("const/lowest", -3.4e38)}, []string{p + "masked"})
	b.reduce("ReduceMax", p+"ReduceMax", p+"masked", p+"max")
	b.node("Min", p+"Min", []string{"mask/count", b.scalar("const/one", 1)}, []string{p + "any"})
	b.node("Mul", p+"Mul", []string{p + "max", p + "any"}, []string{p + "output"})
	return p + "output"
}

// dropout emits the identity a dropout layer is at inference, as an
// Identity node named <layer>/Dropout with the rate in its doc_string
// ("rate=0.3"), so that an import without birnn.config recovers the layer.
func (b *builder) dropout(l model.LayerSpec, x string) string {
	out := l.Name + "/output"
	b.node("Identity", l.Name+"/Dropout", []string{x}, []string{out})
	b.nodes[len(b.nodes)-1].DocString = proto.String("rate=" + strconv.FormatFloat(l.Rate, 'g', -1, 64))
	return out
}
