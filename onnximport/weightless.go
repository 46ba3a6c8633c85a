package onnximport

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// poolFound is a global pool over time between the last recurrent layer
// and the first Dense layer.
type poolFound struct {
	anchor *onnx.NodeProto // the node that reads the sequence
	kind   string          // model.KindGlobalMaxPool or KindGlobalAveragePool
	in     string          // the sequence [seq, batch, W] it pools
	masked bool
}

// findPool looks for a pool on the data path from the last recurrent
// node's outputs to the first Dense layer's input: ReduceMax or ReduceMean
// over axis 0 (time-major, as tf2onnx and birnn write them), or birnn's
// masked forms — Where(mask, x, lowest) → ReduceMax, and x·mask →
// ReduceSum → Div — whose mask comes from the word ids, not the data. It
// returns nil when the path holds none, and marks the pool's nodes mapped.
func (gr *graph) findPool(c *chain, from []string, to string) (*poolFound, error) {
	path := gr.dataPath(from, to)
	var p *poolFound
	for _, n := range path {
		switch op := n.GetOpType(); op {
		case "ReduceMax", "ReduceMean":
			if p != nil && p.masked {
				continue // part of the masked pool found below
			}
			if !gr.timeAxis(n) {
				return nil, unmapped(n, "reduces over another axis than time")
			}
			kind := model.KindGlobalMaxPool
			if op == "ReduceMean" {
				kind = model.KindGlobalAveragePool
			}
			p = &poolFound{anchor: n, kind: kind, in: input(n, 0)}
		case "Where":
			if gr.fromData(c, input(n, 0)) || !gr.fromData(c, input(n, 1)) {
				return nil, unmapped(n, "a Where that is not birnn's masked max pool")
			}
			p = &poolFound{anchor: n, kind: model.KindGlobalMaxPool, in: input(n, 1), masked: true}
		case "Mul":
			a, b := gr.fromData(c, input(n, 0)), gr.fromData(c, input(n, 1))
			if a != b && p == nil && slices.ContainsFunc(path, func(m *onnx.NodeProto) bool { return m.GetOpType() == "Div" }) {
				in := input(n, 0)
				if b {
					in = input(n, 1)
				}
				p = &poolFound{anchor: n, kind: model.KindGlobalAveragePool, in: in, masked: true}
			}
		}
	}
	if p == nil {
		return nil, nil
	}
	for _, n := range gr.dataPath([]string{p.in}, to) {
		c.mapped[n] = true
	}
	return p, nil
}

// timeAxis reports whether a ReduceMax/ReduceMean node reduces axis 0 only
// without keeping it (axes as an attribute or a constant input).
func (gr *graph) timeAxis(n *onnx.NodeProto) bool {
	var axes []int64
	if a := attrOf(n, "axes"); a != nil {
		axes = a.GetInts()
	} else if t := gr.constant(input(n, 1)); t != nil {
		d, err := onnx.TensorData(t)
		if v, ok := d.([]int64); err == nil && ok {
			axes = v
		}
	}
	keep := attrOf(n, "keepdims")
	return len(axes) == 1 && axes[0] == 0 && keep != nil && keep.GetI() == 0
}

// fromData reports whether value v depends on the embedding's output (the
// data), rather than on the word ids alone (a mask).
func (gr *graph) fromData(c *chain, v string) bool {
	return gr.ancestors(v)[output(c.layerNodes.emb, 0)]
}

// maskedLens reports whether sequence_lens v is birnn's (and Keras's
// mask_zero) count of non-zero ids: computed from the graph input through
// Greater/Equal/Not, Cast and ReduceSum only, never from the data.
func (gr *graph) maskedLens(c *chain, v string) bool {
	if gr.fromData(c, v) {
		return false
	}
	ins := gr.g.GetInput()
	up := gr.ancestors(v)
	if len(ins) == 0 || !up[ins[0].GetName()] {
		return false
	}
	var sum, cmp bool
	for name := range up {
		p := gr.producer[name]
		if p == nil {
			continue
		}
		switch p.GetOpType() {
		case "ReduceSum":
			sum = true
		case "Greater", "Equal", "Not":
			cmp = true
		case "Cast", "Identity":
		default:
			return false
		}
	}
	return sum && cmp
}

// dropoutName is how birnn's export names a dropout layer's Identity node.
var dropoutName = regexp.MustCompile(`^(dropout|spatial_dropout1d)_([0-9]+)/Dropout$`)

// insertDropouts puts back the dropout layers of a birnn export — the
// Identity nodes named <kind>_<index>/Dropout on the data path, the rate
// in their doc_string — at the positions their names give. Other graphs
// (tf2onnx drops Keras's Dropout layers) have none.
func (gr *graph) insertDropouts(c *chain, layers []configs.Layer) ([]configs.Layer, error) {
	type found struct {
		at int
		l  configs.Layer
	}
	var fs []found
	for _, n := range gr.dataPath(c.layerNodes.emb.GetOutput(), c.output) {
		m := dropoutName.FindStringSubmatch(n.GetName())
		if n.GetOpType() != "Identity" || m == nil {
			continue
		}
		at, _ := strconv.Atoi(m[2])
		rate, err := strconv.ParseFloat(strings.TrimPrefix(n.GetDocString(), "rate="), 64)
		if err != nil || !strings.HasPrefix(n.GetDocString(), "rate=") {
			return nil, unmapped(n, "a dropout layer's doc_string %q is not rate=<value>", n.GetDocString())
		}
		fs = append(fs, found{at, configs.Layer{Type: m[1], Rate: rate}})
	}
	slices.SortFunc(fs, func(a, b found) int { return a.at - b.at })
	for _, f := range fs {
		if f.at > len(layers) {
			return nil, unmapped(nil, "dropout layer %d beyond the %d layers found", f.at, len(layers))
		}
		layers = slices.Insert(layers, f.at, f.l)
	}
	return layers, nil
}
