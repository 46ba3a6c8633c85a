package infer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/birnn/birnn/onnx"
)

func tensorProto(t testing.TB, name string, x *Tensor) *onnx.TensorProto {
	t.Helper()
	tp, err := ToProto(name, x)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func constNode(t testing.TB, out string, x *Tensor) *onnx.NodeProto {
	return onnx.MakeNode(out, "Constant", nil, []string{out}, onnx.AttrTensor("value", tensorProto(t, out, x)))
}

// vi declares a value of unstated shape.
func vi(name string, d onnx.TensorProto_DataType) *onnx.ValueInfoProto {
	v := onnx.MakeValueInfo(name, d)
	v.GetType().GetTensorType().Shape = nil
	return v
}

// vir declares a value of rank r with unnamed dims (ONNX Runtime needs the
// rank of every body value).
func vir(name string, d onnx.TensorProto_DataType, r int) *onnx.ValueInfoProto {
	v := onnx.MakeValueInfo(name, d)
	for i := 0; i < r; i++ {
		v.GetType().GetTensorType().GetShape().Dim = append(v.GetType().GetTensorType().GetShape().Dim, &onnx.TensorShapeProto_Dimension{})
	}
	return v
}

// whileModel is the form of a Keras/tf2onnx while loop: a trip count and a
// condition from Less, two loop-carried values (one whose shape grows by a
// column per iteration), two scan outputs, and a body that reads a weight,
// a bias and a limit from the main graph.
func whileModel(t testing.TB, trip int64, limit int64, withM, withCond bool) *onnx.ModelProto {
	rng := rand.New(rand.NewPCG(3, 4))
	body := onnx.MakeGraph("body", []*onnx.NodeProto{
		onnx.MakeNode("mm", "MatMul", []string{"h", "w"}, []string{"hw"}),
		onnx.MakeNode("add", "Add", []string{"hw", "b"}, []string{"pre"}),
		onnx.MakeNode("tanh", "Tanh", []string{"pre"}, []string{"h2"}),
		onnx.MakeNode("sum", "ReduceSum", []string{"h2", "axis1"}, []string{"s"}, onnx.AttrInt("keepdims", 1)),
		onnx.MakeNode("grow", "Concat", []string{"acc", "s"}, []string{"acc2"}, onnx.AttrInt("axis", 1)),
		onnx.MakeNode("less", "Less", []string{"i", "limit"}, []string{"c2"}),
		onnx.MakeNode("fi", "Cast", []string{"i"}, []string{"fi"}, onnx.AttrInt("to", int64(Float))),
		onnx.MakeNode("scale", "Mul", []string{"h2", "fi"}, []string{"scaled"}),
	},
		[]*onnx.ValueInfoProto{vir("i", onnx.TensorProto_INT64, 0), vir("c", onnx.TensorProto_BOOL, 0), vir("h", onnx.TensorProto_FLOAT, 2), vir("acc", onnx.TensorProto_FLOAT, 2)},
		[]*onnx.ValueInfoProto{vir("c2", onnx.TensorProto_BOOL, 0), vir("h2", onnx.TensorProto_FLOAT, 2), vir("acc2", onnx.TensorProto_FLOAT, 2), vir("h2", onnx.TensorProto_FLOAT, 2), vir("scaled", onnx.TensorProto_FLOAT, 2)},
	)
	m, c := "", ""
	nodes := []*onnx.NodeProto{
		constNode(t, "limit", NewInt64(nil, []int64{limit})),
		constNode(t, "axis1", NewInt64([]int{1}, []int64{1})),
		onnx.MakeNode("first", "Slice", []string{"x", "zero", "one", "one"}, []string{"acc0"}),
	}
	if withM {
		m = "M"
		nodes = append(nodes, constNode(t, "M", NewInt64(nil, []int64{trip})))
	}
	if withCond {
		c = "cond"
		nodes = append(nodes, constNode(t, "cond", NewBool(nil, []bool{true})))
	}
	nodes = append(nodes, onnx.MakeNode("while", "Loop", []string{m, c, "x", "acc0"}, []string{"h_final", "acc_final", "hs", "scaled_all"}, onnx.AttrGraph("body", body)))
	g := onnx.MakeGraph("while", nodes,
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("x", onnx.TensorProto_FLOAT, onnx.DimParam("batch"), onnx.DimValue(3))},
		[]*onnx.ValueInfoProto{vi("h_final", onnx.TensorProto_FLOAT), vi("acc_final", onnx.TensorProto_FLOAT), vi("hs", onnx.TensorProto_FLOAT), vi("scaled_all", onnx.TensorProto_FLOAT)},
		tensorProto(t, "w", randTensor(rng, []int{3, 3})), tensorProto(t, "b", randTensor(rng, []int{3})),
		tensorProto(t, "zero", NewInt64([]int{1}, []int64{0})), tensorProto(t, "one", NewInt64([]int{1}, []int64{1})))
	return onnx.MakeModel(g, onnx.Opset("", 15))
}

// nestedModel holds an If whose then branch runs a Loop and whose else
// branch runs a Scan, both reading x and a weight from the main graph; the
// Loop's body itself holds an If that reads the loop's counter.
func nestedModel(t testing.TB) *onnx.ModelProto {
	rng := rand.New(rand.NewPCG(5, 6))
	innerIf := func(name string) *onnx.NodeProto {
		return onnx.MakeNode(name, "If", []string{"even"}, []string{"picked"},
			onnx.AttrGraph("then_branch", onnx.MakeGraph("t", []*onnx.NodeProto{onnx.MakeNode("ta", "Add", []string{"h", "w"}, []string{"tv"})}, nil, []*onnx.ValueInfoProto{vi("tv", onnx.TensorProto_FLOAT)})),
			onnx.AttrGraph("else_branch", onnx.MakeGraph("e", []*onnx.NodeProto{onnx.MakeNode("ea", "Sub", []string{"h", "x"}, []string{"ev"})}, nil, []*onnx.ValueInfoProto{vi("ev", onnx.TensorProto_FLOAT)})))
	}
	loopBody := onnx.MakeGraph("lb", []*onnx.NodeProto{
		onnx.MakeNode("mod", "Mod", []string{"i", "two"}, []string{"r"}),
		onnx.MakeNode("iseven", "Equal", []string{"r", "zero"}, []string{"even"}),
		innerIf("pick"),
		onnx.MakeNode("th", "Tanh", []string{"picked"}, []string{"h2"}),
		onnx.MakeNode("id", "Identity", []string{"c"}, []string{"c2"}),
	}, []*onnx.ValueInfoProto{vir("i", onnx.TensorProto_INT64, 0), vir("c", onnx.TensorProto_BOOL, 0), vir("h", onnx.TensorProto_FLOAT, 2)},
		[]*onnx.ValueInfoProto{vir("c2", onnx.TensorProto_BOOL, 0), vir("h2", onnx.TensorProto_FLOAT, 2)})
	thenBranch := onnx.MakeGraph("then", []*onnx.NodeProto{
		onnx.MakeNode("loop", "Loop", []string{"M", "", "x"}, []string{"looped"}, onnx.AttrGraph("body", loopBody)),
	}, nil, []*onnx.ValueInfoProto{vi("looped", onnx.TensorProto_FLOAT)})
	scanBody := onnx.MakeGraph("sb", []*onnx.NodeProto{
		onnx.MakeNode("sa", "Add", []string{"st", "row"}, []string{"st2"}),
		onnx.MakeNode("sm", "Mul", []string{"st2", "w"}, []string{"y"}),
	}, []*onnx.ValueInfoProto{vir("st", onnx.TensorProto_FLOAT, 1), vir("row", onnx.TensorProto_FLOAT, 1)},
		[]*onnx.ValueInfoProto{vir("st2", onnx.TensorProto_FLOAT, 1), vir("y", onnx.TensorProto_FLOAT, 1)})
	elseBranch := onnx.MakeGraph("else", []*onnx.NodeProto{
		onnx.MakeNode("scan", "Scan", []string{"w", "x"}, []string{"scanned", "ys"}, onnx.AttrGraph("body", scanBody),
			onnx.AttrInt("num_scan_inputs", 1), onnx.AttrInts("scan_input_axes", 0), onnx.AttrInts("scan_output_directions", 1)),
		onnx.MakeNode("red", "ReduceSum", []string{"ys", "axis0"}, []string{"ysum"}, onnx.AttrInt("keepdims", 0)),
		onnx.MakeNode("both", "Add", []string{"scanned", "ysum"}, []string{"out"}),
	}, nil, []*onnx.ValueInfoProto{vi("out", onnx.TensorProto_FLOAT)})
	g := onnx.MakeGraph("nested", []*onnx.NodeProto{
		onnx.MakeNode("total", "ReduceSum", []string{"x"}, []string{"tot"}, onnx.AttrInt("keepdims", 0)),
		onnx.MakeNode("pos", "Greater", []string{"tot", "fzero"}, []string{"positive"}),
		onnx.MakeNode("branch", "If", []string{"positive"}, []string{"y"}, onnx.AttrGraph("then_branch", thenBranch), onnx.AttrGraph("else_branch", elseBranch)),
	},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("x", onnx.TensorProto_FLOAT, onnx.DimValue(4), onnx.DimValue(3))},
		[]*onnx.ValueInfoProto{vi("y", onnx.TensorProto_FLOAT)},
		tensorProto(t, "w", randTensor(rng, []int{3})), tensorProto(t, "M", NewInt64(nil, []int64{5})),
		tensorProto(t, "two", NewInt64(nil, []int64{2})), tensorProto(t, "zero", NewInt64(nil, []int64{0})),
		tensorProto(t, "fzero", NewFloat32(nil, []float32{0})), tensorProto(t, "axis0", NewInt64([]int{1}, []int64{0})))
	return onnx.MakeModel(g, onnx.Opset("", 15))
}

// scanModel scans two inputs along different axes and directions into
// two outputs stacked along different axes and directions.
func scanModel(t testing.TB, inAxes, inDirs, outAxes, outDirs []int64) *onnx.ModelProto {
	body := onnx.MakeGraph("sb", []*onnx.NodeProto{
		onnx.MakeNode("a", "Add", []string{"st", "u"}, []string{"st2"}),
		onnx.MakeNode("m", "MatMul", []string{"st2", "v"}, []string{"p"}),
		onnx.MakeNode("s", "Mul", []string{"st2", "k"}, []string{"q"}),
	}, []*onnx.ValueInfoProto{vir("st", onnx.TensorProto_FLOAT, 2), vir("u", onnx.TensorProto_FLOAT, 2), vir("v", onnx.TensorProto_FLOAT, 2)},
		[]*onnx.ValueInfoProto{vir("st2", onnx.TensorProto_FLOAT, 2), vir("p", onnx.TensorProto_FLOAT, 2), vir("q", onnx.TensorProto_FLOAT, 2)})
	g := onnx.MakeGraph("scan", []*onnx.NodeProto{
		onnx.MakeNode("scan", "Scan", []string{"s0", "u", "v"}, []string{"sT", "ps", "qs"}, onnx.AttrGraph("body", body),
			onnx.AttrInt("num_scan_inputs", 2), onnx.AttrInts("scan_input_axes", inAxes...), onnx.AttrInts("scan_input_directions", inDirs...),
			onnx.AttrInts("scan_output_axes", outAxes...), onnx.AttrInts("scan_output_directions", outDirs...)),
	},
		[]*onnx.ValueInfoProto{vi("s0", onnx.TensorProto_FLOAT), vi("u", onnx.TensorProto_FLOAT), vi("v", onnx.TensorProto_FLOAT)},
		[]*onnx.ValueInfoProto{vi("sT", onnx.TensorProto_FLOAT), vi("ps", onnx.TensorProto_FLOAT), vi("qs", onnx.TensorProto_FLOAT)},
		tensorProto(t, "k", NewFloat32([]int{1}, []float32{0.5})))
	return onnx.MakeModel(g, onnx.Opset("", 16))
}

// checkVsORT runs m on inputs (graph inputs in order) with both engines.
func checkVsORT(t *testing.T, label string, m *onnx.ModelProto, inputs []*Tensor, atol, rtol float64) {
	t.Helper()
	want, err := newORTSession(t, m, 1).run(inputs)
	if err != nil {
		t.Fatalf("%s: ONNX Runtime: %v", label, err)
	}
	s, err := LoadModel(m)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	feed := map[string]*Tensor{}
	for i, in := range m.GetGraph().GetInput() {
		if i < len(inputs) {
			feed[in.GetName()] = inputs[i]
		}
	}
	got, err := s.Run(context.Background(), feed)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	for i, o := range m.GetGraph().GetOutput() {
		if err := Compare(got[o.GetName()], want[i], atol, rtol); err != nil {
			t.Errorf("%s: output %s: %v (got %v, want %v)", label, o.GetName(), err, got[o.GetName()], want[i])
		}
	}
}

func TestLoopMatchesORT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		trip, limit  int64
		withM, withC bool
	}{
		{4, 2, true, true},    // the condition stops it after 3 iterations
		{4, 10, true, true},   // the trip count stops it
		{3, 100, true, false}, // trip count only
		{0, 100, false, true}, // condition only: stops when i reaches the limit
		{1, 100, true, true},
	} {
		for _, batch := range []int{1, 2} {
			label := fmt.Sprintf("M=%d (%v) limit=%d (%v) batch=%d", c.trip, c.withM, c.limit, c.withC, batch)
			limit := c.limit
			if !c.withM && limit > 6 {
				limit = 6
			}
			checkVsORT(t, label, whileModel(t, c.trip, limit, c.withM, c.withC), []*Tensor{randTensor(rng, []int{batch, 3})}, 1e-6, 1e-5)
		}
	}
}

func TestNestedSubgraphsMatchORT(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m := nestedModel(t)
	for i := 0; i < 6; i++ {
		x := randTensor(rng, []int{4, 3})
		if i < 2 { // both branches for sure
			sign := float32(1 - 2*i)
			for j := range x.Float32s() {
				x.Float32s()[j] = sign * (0.1 + float32(j)/10)
			}
		}
		checkVsORT(t, fmt.Sprintf("x %d", i), m, []*Tensor{x}, 1e-6, 1e-5)
	}
}

func TestScanMatchesORT(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct {
		inAxes, inDirs, outAxes, outDirs []int64
	}{
		{[]int64{0, 0}, []int64{0, 0}, []int64{0, 0}, []int64{0, 0}},
		{[]int64{1, 0}, []int64{1, 0}, []int64{1, -1}, []int64{0, 1}},
		{[]int64{-1, 2}, []int64{0, 1}, []int64{2, 0}, []int64{1, 1}},
	} {
		// s [2 3], u scanned along its axis: 4 steps of [2 3]; v: 4 steps of [3 2].
		uShape := map[int64][]int{0: {4, 2, 3}, 1: {2, 4, 3}, -1: {2, 3, 4}}[c.inAxes[0]]
		vShape := map[int64][]int{0: {4, 3, 2}, 2: {3, 2, 4}}[c.inAxes[1]]
		label := fmt.Sprintf("axes %v dirs %v out axes %v dirs %v", c.inAxes, c.inDirs, c.outAxes, c.outDirs)
		checkVsORT(t, label, scanModel(t, c.inAxes, c.inDirs, c.outAxes, c.outDirs),
			[]*Tensor{randTensor(rng, []int{2, 3}), randTensor(rng, uShape), randTensor(rng, vShape)}, 1e-6, 1e-5)
	}
}

// A loop of many iterations costs one body call each: its body is
// compiled when the model loads and never again.
func TestLoopBodyPreparedOnce(t *testing.T) {
	before := compiledGraphs.Load()
	s, err := LoadModel(whileModel(t, 1000, 1<<40, true, true))
	if err != nil {
		t.Fatal(err)
	}
	if n := compiledGraphs.Load() - before; n != 2 {
		t.Errorf("loading compiled %d graphs, want 2 (main and body)", n)
	}
	before = compiledGraphs.Load()
	x := randTensor(rand.New(rand.NewPCG(1, 1)), []int{1, 3})
	for i := 0; i < 3; i++ {
		res, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		if res["hs"].Shape[0] != 1000 {
			t.Fatalf("ran %d iterations, want 1000", res["hs"].Shape[0])
		}
	}
	if n := compiledGraphs.Load() - before; n != 0 {
		t.Errorf("3 runs of 1000 iterations compiled %d graphs", n)
	}
}

func TestSubgraphErrors(t *testing.T) {
	ctx := context.Background()
	load := func(m *onnx.ModelProto) error { _, err := LoadModel(m); return err }

	// A body reading a value nobody defines.
	m := whileModel(t, 3, 10, true, true)
	body := m.Graph.Node[len(m.Graph.Node)-1].Attribute[0].G
	body.Node[0].Input[1] = "nowhere"
	if err := load(m); !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), `"nowhere"`) || !strings.Contains(err.Error(), `Loop "while"`) {
		t.Errorf("dangling body input: %v", err)
	}
	// A body with the wrong number of inputs.
	m = whileModel(t, 3, 10, true, true)
	body = m.Graph.Node[len(m.Graph.Node)-1].Attribute[0].G
	body.Input = append(body.Input, vi("extra", onnx.TensorProto_FLOAT))
	if err := load(m); err == nil || !strings.Contains(err.Error(), "body has 5 inputs") {
		t.Errorf("short body: %v", err)
	}
	// A cycle inside a body.
	m = whileModel(t, 3, 10, true, true)
	body = m.Graph.Node[len(m.Graph.Node)-1].Attribute[0].G
	body.Node[0].Input[0] = "h2"
	if err := load(m); !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle in body: %v", err)
	}
	// If without a branch.
	m = nestedModel(t)
	m.Graph.Node[2].Attribute = m.Graph.Node[2].Attribute[:1]
	if err := load(m); err == nil || !strings.Contains(err.Error(), "else_branch") {
		t.Errorf("If without else: %v", err)
	}
	// Scan whose attributes disagree with its inputs.
	m = scanModel(t, []int64{0}, []int64{0, 0}, []int64{0, 0}, []int64{0, 0})
	if err := load(m); err == nil || !strings.Contains(err.Error(), "scan_input_axes") {
		t.Errorf("Scan axes: %v", err)
	}
	m = scanModel(t, []int64{0, 0}, []int64{0, 2}, []int64{0, 0}, []int64{0, 0})
	if err := load(m); err == nil || !strings.Contains(err.Error(), "direction 2") {
		t.Errorf("Scan direction: %v", err)
	}

	// Run-time errors: a condition that is not a bool, scan outputs
	// whose shape changes, scan inputs of different lengths.
	m = whileModel(t, 3, 10, true, true)
	m.Graph.Node[len(m.Graph.Node)-1].Input[1] = "limit"
	s, err := LoadModel(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, map[string]*Tensor{"x": randTensor(rand.New(rand.NewPCG(1, 1)), []int{1, 3})}); err == nil || !strings.Contains(err.Error(), "cond must be one BOOL") {
		t.Errorf("int condition: %v", err)
	}
	m = whileModel(t, 3, 10, true, true)
	body = m.Graph.Node[len(m.Graph.Node)-1].Attribute[0].G
	body.Output[3] = vi("acc2", onnx.TensorProto_FLOAT) // grows every iteration
	s, err = LoadModel(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, map[string]*Tensor{"x": randTensor(rand.New(rand.NewPCG(1, 1)), []int{1, 3})}); err == nil || !strings.Contains(err.Error(), "scan output 0") {
		t.Errorf("growing scan output: %v", err)
	}
	s, err = LoadModel(scanModel(t, []int64{0, 0}, []int64{0, 0}, []int64{0, 0}, []int64{0, 0}))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	if _, err := s.Run(ctx, map[string]*Tensor{"s0": randTensor(rng, []int{2, 3}), "u": randTensor(rng, []int{4, 2, 3}), "v": randTensor(rng, []int{5, 3, 2})}); err == nil || !strings.Contains(err.Error(), "steps") {
		t.Errorf("scan lengths: %v", err)
	}
}

// A loop with neither trip count nor a condition that ends runs until the
// context ends.
func TestEndlessLoopStopsWithContext(t *testing.T) {
	body := onnx.MakeGraph("b", []*onnx.NodeProto{onnx.MakeNode("id", "Identity", []string{"c"}, []string{"c2"}), onnx.MakeNode("n", "Neg", []string{"h"}, []string{"h2"})},
		[]*onnx.ValueInfoProto{vi("i", onnx.TensorProto_INT64), vi("c", onnx.TensorProto_BOOL), vi("h", onnx.TensorProto_FLOAT)},
		[]*onnx.ValueInfoProto{vi("c2", onnx.TensorProto_BOOL), vi("h2", onnx.TensorProto_FLOAT)})
	g := onnx.MakeGraph("g", []*onnx.NodeProto{onnx.MakeNode("forever", "Loop", []string{"", "", "x"}, []string{"y"}, onnx.AttrGraph("body", body))},
		[]*onnx.ValueInfoProto{vi("x", onnx.TensorProto_FLOAT)}, []*onnx.ValueInfoProto{vi("y", onnx.TensorProto_FLOAT)})
	s, err := LoadModel(onnx.MakeModel(g, onnx.Opset("", 13)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = s.Run(ctx, map[string]*Tensor{"x": f32([]int{1}, 1)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("endless loop: %v, want the context's deadline", err)
	}
}

// Hand-computed: a Loop with zero iterations returns its initial values
// and empty scan outputs; an If picks its branch's constant and the copy
// is the caller's.
func TestLoopAndIfEdgeCases(t *testing.T) {
	m := whileModel(t, 0, 10, true, true)
	s, err := LoadModel(m)
	if err != nil {
		t.Fatal(err)
	}
	x := f32([]int{1, 3}, 1, 2, 3)
	res, err := s.Run(context.Background(), map[string]*Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, "h_final", res["h_final"], x)
	checkTensor(t, "acc_final", res["acc_final"], f32([]int{1, 1}, 1))
	if res["hs"].Len() != 0 || res["hs"].DType != Float {
		t.Errorf("scan output of zero iterations: %v", res["hs"])
	}

	branch := func(v float32) *onnx.GraphProto {
		return onnx.MakeGraph("b", []*onnx.NodeProto{constNode(t, "k", f32([]int{2}, v, v))}, nil, []*onnx.ValueInfoProto{vi("k", onnx.TensorProto_FLOAT)})
	}
	g := onnx.MakeGraph("g", []*onnx.NodeProto{onnx.MakeNode("if", "If", []string{"c"}, []string{"y"}, onnx.AttrGraph("then_branch", branch(1)), onnx.AttrGraph("else_branch", branch(-1)))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("c", onnx.TensorProto_BOOL)}, []*onnx.ValueInfoProto{vi("y", onnx.TensorProto_FLOAT)})
	s, err = LoadModel(onnx.MakeModel(g, onnx.Opset("", 13)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []bool{true, false, true} {
		res, err := s.Run(context.Background(), map[string]*Tensor{"c": NewBool(nil, []bool{c})})
		if err != nil {
			t.Fatal(err)
		}
		want := float32(-1)
		if c {
			want = 1
		}
		checkTensor(t, fmt.Sprint(c), res["y"], f32([]int{2}, want, want))
		res["y"].Float32s()[0] = 99 // must not reach the next run
	}
}
