package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// mlpModel is y = Sigmoid(x·W + b) with x [batch, 2] (batch symbolic),
// W [2, 1] = [1, −1], b = [0.5], plus metadata.
func mlpModel(t testing.TB) *onnx.ModelProto {
	t.Helper()
	w, err := onnx.MakeTensor("W", []int64{2, 1}, []float32{1, -1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := onnx.MakeTensor("b", []int64{1}, []float32{0.5})
	if err != nil {
		t.Fatal(err)
	}
	g := onnx.MakeGraph("mlp",
		[]*onnx.NodeProto{
			// Deliberately out of order: the session sorts.
			onnx.MakeNode("act", "Sigmoid", []string{"z"}, []string{"y"}),
			onnx.MakeNode("mm", "MatMul", []string{"x", "W"}, []string{"h"}),
			onnx.MakeNode("bias", "Add", []string{"h", "b"}, []string{"z"}),
		},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("x", onnx.TensorProto_FLOAT, onnx.DimParam("batch"), onnx.DimValue(2))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("y", onnx.TensorProto_FLOAT, onnx.DimParam("batch"), onnx.DimValue(1))},
		w, b)
	m := onnx.MakeModel(g, onnx.Opset("", 15))
	m.ProducerVersion = proto.String("1.0")
	m.DocString = proto.String("tiny")
	m.MetadataProps = []*onnx.StringStringEntryProto{{Key: proto.String("k"), Value: proto.String("v")}}
	return m
}

func sigmoid(x float64) float32 { return float32(1 / (1 + math.Exp(-x))) }

func TestSessionRunAndMetadata(t *testing.T) {
	s, err := LoadModel(mlpModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(s.Inputs()); got != "[x FLOAT[batch 2]]" {
		t.Errorf("Inputs() = %s", got)
	}
	if got := fmt.Sprint(s.Outputs()); got != "[y FLOAT[batch 1]]" {
		t.Errorf("Outputs() = %s", got)
	}
	m := s.Metadata()
	if m.ProducerName != "birnn" || m.ProducerVersion != "1.0" || m.IRVersion != 8 || m.Opsets[""] != 15 ||
		m.Props["k"] != "v" || m.DocString != "tiny" || m.GraphName != "mlp" {
		t.Errorf("Metadata() = %+v", m)
	}
	if h := s.OpHistogram(); h["MatMul"] != 1 || h["Add"] != 1 || h["Sigmoid"] != 1 || len(h) != 3 {
		t.Errorf("OpHistogram() = %v", h)
	}
	if s.ParamCount() != 3 {
		t.Errorf("ParamCount() = %d, want 3", s.ParamCount())
	}
	res, err := s.Run(context.Background(), map[string]*Tensor{"x": f32([]int{3, 2}, 1, 2, 0, 0, 3, 1)})
	if err != nil {
		t.Fatal(err)
	}
	// x·W + b = −1+.5, 0+.5, 2+.5
	checkTensor(t, "y", res["y"], f32([]int{3, 1}, sigmoid(-0.5), sigmoid(0.5), sigmoid(2.5)))
}

func TestSessionConcurrentRuns(t *testing.T) {
	s, err := LoadModel(mlpModel(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				v := float32(g + i)
				res, err := s.Run(context.Background(), map[string]*Tensor{"x": f32([]int{1, 2}, v, 0)})
				if err != nil {
					errs <- err
					return
				}
				if want := sigmoid(float64(v) + 0.5); res["y"].Float32s()[0] != want {
					errs <- fmt.Errorf("goroutine %d run %d: %v, want %v", g, i, res["y"].Float32s()[0], want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSessionRunErrors(t *testing.T) {
	s, err := LoadModel(mlpModel(t))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   map[string]*Tensor
		want string
	}{
		{"missing", map[string]*Tensor{}, `missing input "x"`},
		{"unknown name", map[string]*Tensor{"x": f32([]int{1, 2}, 1, 2), "q": f32(nil, 1)}, `unknown input "q"`},
		{"wrong dtype", map[string]*Tensor{"x": NewFloat64([]int{1, 2}, []float64{1, 2})}, "dtype DOUBLE, want FLOAT"},
		{"wrong rank", map[string]*Tensor{"x": f32([]int{2}, 1, 2)}, "rank 1"},
		{"wrong static dim", map[string]*Tensor{"x": f32([]int{1, 3}, 1, 2, 3)}, "dim 1 is 3, want 2"},
		{"data/shape mismatch", map[string]*Tensor{"x": {DType: Float, Shape: []int{2, 2}, Data: []float32{1}}}, "needs 4 elements"},
		{"data/dtype mismatch", map[string]*Tensor{"x": {DType: Float, Shape: []int{1, 2}, Data: []int64{1, 2}}}, "does not match dtype"},
		{"nil data", map[string]*Tensor{"x": {DType: Float, Shape: []int{1, 2}}}, "unsupported data"},
	}
	for _, tc := range cases {
		_, err := s.Run(context.Background(), tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Run(ctx, map[string]*Tensor{"x": f32([]int{1, 2}, 1, 2)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestSymbolicDimsAgree(t *testing.T) {
	g := onnx.MakeGraph("g",
		[]*onnx.NodeProto{onnx.MakeNode("add", "Add", []string{"a", "b"}, []string{"c"})},
		[]*onnx.ValueInfoProto{
			onnx.MakeValueInfo("a", onnx.TensorProto_FLOAT, onnx.DimParam("n")),
			onnx.MakeValueInfo("b", onnx.TensorProto_FLOAT, onnx.DimParam("n")),
		},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("c", onnx.TensorProto_FLOAT, onnx.DimParam("n"))})
	s, err := LoadModel(onnx.MakeModel(g))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(context.Background(), map[string]*Tensor{"a": f32([]int{2}, 1, 2), "b": f32([]int{1}, 1)})
	if err == nil || !strings.Contains(err.Error(), "n is") {
		t.Errorf("a[2], b[1] with both dims n: error %v", err)
	}
}

// An output that is an initializer (or a view of one) is handed out as a
// copy, so a caller writing to it cannot change later runs.
func TestOutputsDoNotAliasInitializers(t *testing.T) {
	w, _ := onnx.MakeTensor("W", []int64{2}, []float32{1, 2})
	shape, _ := onnx.MakeTensor("s", []int64{2}, []int64{1, 2})
	g := onnx.MakeGraph("g",
		[]*onnx.NodeProto{onnx.MakeNode("r", "Reshape", []string{"W", "s"}, []string{"y"})},
		nil,
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("y", onnx.TensorProto_FLOAT, onnx.DimValue(1), onnx.DimValue(2))},
		w, shape)
	s, err := LoadModel(onnx.MakeModel(g))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		res, err := s.Run(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		y := res["y"].Float32s()
		if y[0] != 1 || y[1] != 2 {
			t.Fatalf("run %d: y = %v, want [1 2]", i, y)
		}
		y[0] = 99
	}
}

func TestConstantNodes(t *testing.T) {
	ct, _ := onnx.MakeTensor("", []int64{2}, []float32{1, 2})
	g := onnx.MakeGraph("g",
		[]*onnx.NodeProto{
			onnx.MakeNode("c1", "Constant", nil, []string{"a"}, onnx.AttrTensor("value", ct)),
			onnx.MakeNode("c2", "Constant", nil, []string{"b"}, onnx.AttrFloats("value_floats", 10, 20)),
			onnx.MakeNode("c3", "Constant", nil, []string{"k"}, onnx.AttrInt("value_int", 3)),
			onnx.MakeNode("c4", "Constant", nil, []string{"f"}, onnx.AttrFloat("value_float", 0.5)),
			onnx.MakeNode("c5", "Constant", nil, []string{"ks"}, onnx.AttrInts("value_ints", 2)),
			onnx.MakeNode("add", "Add", []string{"a", "b"}, []string{"s"}),
			onnx.MakeNode("mul", "Mul", []string{"s", "f"}, []string{"y"}),
			onnx.MakeNode("cast", "Cast", []string{"k"}, []string{"kf"}, onnx.AttrInt("to", 1)),
		}, nil,
		[]*onnx.ValueInfoProto{
			onnx.MakeValueInfo("y", onnx.TensorProto_FLOAT, onnx.DimValue(2)),
			onnx.MakeValueInfo("kf", onnx.TensorProto_FLOAT),
			onnx.MakeValueInfo("ks", onnx.TensorProto_INT64, onnx.DimValue(1)),
		})
	s, err := LoadModel(onnx.MakeModel(g))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, "y", res["y"], f32([]int{2}, 5.5, 11))
	checkTensor(t, "kf", res["kf"], f32(nil, 3))
	checkTensor(t, "ks", res["ks"], i64([]int{1}, 2))
}

func TestLoadErrors(t *testing.T) {
	good, err := proto.Marshal(mlpModel(t))
	if err != nil {
		t.Fatal(err)
	}
	withNode := func(n *onnx.NodeProto) *onnx.ModelProto {
		m := mlpModel(t)
		m.Graph.Node = append(m.Graph.Node, n)
		return m
	}
	loop := withNode(onnx.MakeNode("the_loop", "Loop", []string{"", ""}, []string{"lo"},
		onnx.AttrGraph("body", onnx.MakeGraph("body", []*onnx.NodeProto{
			onnx.MakeNode("inner", "Mystery", []string{"y"}, []string{"q1"}),
			onnx.MakeNode("inner2", "Mystery", []string{"q1"}, []string{"q2"}),
		}, nil, nil))))
	several := withNode(onnx.MakeNode("m1", "FancyOp", []string{"y"}, []string{"q1"}))
	several.Graph.Node = append(several.Graph.Node, onnx.MakeNode("m2", "OtherOp", []string{"q1"}, []string{"q2"}),
		onnx.MakeNode("m3", "FancyOp", []string{"q2"}, []string{"q3"}))
	unknown := withNode(onnx.MakeNode("mystery", "FancyOp", []string{"y"}, []string{"q"}))
	custom := withNode(onnx.MakeNode("dom", "Foo", []string{"y"}, []string{"q"}))
	custom.Graph.Node[len(custom.Graph.Node)-1].Domain = proto.String("com.example")
	ext := mlpModel(t)
	ext.Graph.Initializer[0].RawData = nil
	ext.Graph.Initializer[0].DataLocation = onnx.TensorProto_EXTERNAL.Enum()
	ext.Graph.Initializer[0].ExternalData = []*onnx.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("weights.bin")}}
	str := mlpModel(t)
	str.Graph.Initializer = append(str.Graph.Initializer, &onnx.TensorProto{Name: proto.String("s"), DataType: proto.Int32(int32(onnx.TensorProto_STRING)), StringData: [][]byte{[]byte("a")}})
	twice := withNode(onnx.MakeNode("dup", "Relu", []string{"x"}, []string{"h"}))
	dangling := withNode(onnx.MakeNode("dangle", "Relu", []string{"nowhere"}, []string{"q"}))
	cycle := mlpModel(t)
	cycle.Graph.Node = []*onnx.NodeProto{
		onnx.MakeNode("a", "Relu", []string{"v2"}, []string{"v1"}),
		onnx.MakeNode("b", "Relu", []string{"v1"}, []string{"v2"}),
		onnx.MakeNode("c", "Relu", []string{"v2"}, []string{"y"}),
	}
	newOpset := mlpModel(t)
	newOpset.OpsetImport[0].Version = proto.Int64(MaxOpset + 1)
	oldMatMul := mlpModel(t)
	oldMatMul.OpsetImport[0].Version = proto.Int64(0)
	noOutput := mlpModel(t)
	noOutput.Graph.Output[0].Name = proto.String("nothing")
	seq := mlpModel(t)
	seq.Graph.Input[0].Type = &onnx.TypeProto{Value: &onnx.TypeProto_SequenceType{SequenceType: &onnx.TypeProto_Sequence{}}}

	cases := []struct {
		name  string
		bytes []byte
		model *onnx.ModelProto
		check func(error) bool
		want  string
	}{
		{"empty", []byte{}, nil, func(e error) bool { return errors.Is(e, onnx.ErrEmptyModel) }, "empty"},
		{"garbage", []byte("this is not protobuf \xff\xff\xff"), nil, nil, "onnx: decode model"},
		{"truncated", good[:len(good)/2], nil, nil, "onnx"},
		{"op inside a loop", nil, loop, isUnsupportedOp("inner", "Mystery", 15), `Mystery (domain ai.onnx, opset 15) at node "inner" and 1 more, inside Loop "the_loop"`},
		{"every unsupported op", nil, several, func(e error) bool {
			var u *UnsupportedError
			return errors.As(e, &u) && len(u.Ops) == 2 && u.Ops[0].Op == "FancyOp" && u.Ops[0].Nodes == 2 && u.Ops[1].Op == "OtherOp" && u.Ops[1].Node == "m2"
		}, `FancyOp (domain ai.onnx, opset 15) at node "m1" and 1 more; operator OtherOp`},
		{"unknown op", nil, unknown, isUnsupportedOp("mystery", "FancyOp", 15), `node "mystery"`},
		{"unknown domain", nil, custom, isUnsupportedOp("dom", "Foo", 0), "domain com.example"},
		{"external data", nil, ext, func(e error) bool {
			var x *onnx.ExternalDataError
			return errors.As(e, &x) && x.Location == "weights.bin"
		}, "external"},
		{"string tensor", nil, str, func(e error) bool { return errors.Is(e, ErrUnsupported) }, "STRING"},
		{"produced twice", nil, twice, func(e error) bool { return errors.Is(e, ErrInvalidModel) }, `"h" is produced twice`},
		{"dangling input", nil, dangling, func(e error) bool { return errors.Is(e, ErrInvalidModel) }, `"nowhere"`},
		{"cycle", nil, cycle, func(e error) bool { return errors.Is(e, ErrInvalidModel) }, "cycle"},
		{"opset too new", nil, newOpset, nil, "out of the supported range"},
		{"opset 0", nil, oldMatMul, nil, "out of the supported range"},
		{"missing output", nil, noOutput, func(e error) bool { return errors.Is(e, ErrInvalidModel) }, `"nothing"`},
		{"sequence input", nil, seq, func(e error) bool { var x *UnsupportedTypeError; return errors.As(e, &x) && x.Type == "sequence" }, "sequence"},
	}
	for _, tc := range cases {
		var err error
		if tc.model != nil {
			tc.bytes, err = proto.Marshal(tc.model)
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err = LoadBytes(tc.bytes)
		switch {
		case err == nil:
			t.Errorf("%s: loaded", tc.name)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		case tc.check != nil && !tc.check(err):
			t.Errorf("%s: error %v (%T) is not of the expected kind", tc.name, err, err)
		}
	}
}

func isUnsupportedOp(node, op string, opset int64) func(error) bool {
	return func(err error) bool {
		var ue *UnsupportedOpError
		return errors.As(err, &ue) && ue.Node == node && ue.Op == op && ue.Opset == opset && errors.Is(err, ErrUnsupported)
	}
}

// Corrupting a valid model's bytes anywhere never panics: it loads (the
// damage hit a value) or fails with an error.
func TestLoadCorruptBytesNeverPanics(t *testing.T) {
	good, err := proto.Marshal(mlpModel(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		for _, b := range []byte{0x00, 0xff, good[i] ^ 0x5a} {
			bad := append([]byte{}, good...)
			bad[i] = b
			s, err := LoadBytes(bad)
			if err == nil {
				s.Run(context.Background(), map[string]*Tensor{"x": f32([]int{1, 2}, 1, 2)})
			}
		}
		if _, err := LoadBytes(good[:i]); err == nil && i > 0 {
			// A prefix can be a valid, smaller model; that is fine.
			continue
		}
	}
}

// Each intermediate is released by the step that reads it last; inputs of
// the graph stay with the caller and initializers are never released.
func TestIntermediatesFreedAfterLastUse(t *testing.T) {
	s, err := LoadModel(mlpModel(t))
	if err != nil {
		t.Fatal(err)
	}
	freed := map[string][]int{}
	for _, st := range s.steps {
		freed[st.name] = st.free
	}
	slotOf := func(step string, out int) int {
		for _, st := range s.steps {
			if st.name == step {
				return st.out[out]
			}
		}
		t.Fatalf("no step %s", step)
		return -1
	}
	h, z := slotOf("mm", 0), slotOf("bias", 0)
	if fmt.Sprint(freed["bias"]) != fmt.Sprint([]int{h}) || fmt.Sprint(freed["act"]) != fmt.Sprint([]int{z}) {
		t.Errorf("free lists %v; want bias to free h (slot %d), act to free z (slot %d)", freed, h, z)
	}
	if len(freed["mm"]) != 1 || freed["mm"][0] != s.inSlot[0] {
		t.Errorf("mm frees %v, want the input slot %d (the caller keeps its tensor)", freed["mm"], s.inSlot[0])
	}
}
