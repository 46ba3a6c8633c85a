package quantize

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
)

// lstmModel is a one-LSTM model with random weights [dirs, 4H, in].
func lstmModel(t testing.TB, dirs, H, in int, attrs ...*onnx.AttributeProto) *onnx.ModelProto {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(H), uint64(in)))
	mk := func(name string, dims []int64) *onnx.TensorProto {
		n := 1
		for _, d := range dims {
			n *= int(d)
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.3)
		}
		tp, err := onnx.MakeTensor(name, dims, v)
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	d, g4 := int64(dirs), int64(4*H)
	dir := "forward"
	if dirs == 2 {
		dir = "bidirectional"
	}
	node := onnx.MakeNode("lstm", "LSTM", []string{"X", "W", "R", "B"}, []string{"Y", "Y_h"},
		append([]*onnx.AttributeProto{onnx.AttrInt("hidden_size", int64(H)), onnx.AttrString("direction", dir)}, attrs...)...)
	g := onnx.MakeGraph("g", []*onnx.NodeProto{node},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("X", onnx.TensorProto_FLOAT, onnx.DimValue(3), onnx.DimValue(2), onnx.DimValue(int64(in)))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("Y", onnx.TensorProto_FLOAT), onnx.MakeValueInfo("Y_h", onnx.TensorProto_FLOAT)},
		mk("W", []int64{d, g4, int64(in)}), mk("R", []int64{d, g4, int64(H)}), mk("B", []int64{d, 2 * g4}))
	return onnx.MakeModel(g, onnx.Opset("", 14))
}

func initializer(t *testing.T, m *onnx.ModelProto, name string) (any, []int) {
	t.Helper()
	for _, tp := range m.GetGraph().GetInitializer() {
		if tp.GetName() == name {
			d, err := onnx.TensorData(tp)
			if err != nil {
				t.Fatal(err)
			}
			s, err := onnx.Shape(tp)
			if err != nil {
				t.Fatal(err)
			}
			return d, s
		}
	}
	t.Fatalf("no initializer %q", name)
	return nil, nil
}

// TestDynamicLSTM checks the rewritten node against the ONNX Runtime
// schema (op, domain, input order, shapes, dtypes), that every weight is
// within half a step of its code times its scale, that scales follow the
// largest magnitude of their column, and that the float weights are gone.
func TestDynamicLSTM(t *testing.T) {
	for _, perTensor := range []bool{false, true} {
		const dirs, H, in = 2, 5, 3
		m := lstmModel(t, dirs, H, in, onnx.AttrFloat("clip", 3))
		before := proto.Clone(m)
		q, rep, err := Dynamic(m, Options{PerTensor: perTensor})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(m, before) {
			t.Fatal("Dynamic modified its input")
		}
		if len(rep.Quantized) != 1 || len(rep.Skipped) != 0 {
			t.Fatalf("report %+v", rep)
		}
		// 320 weights: 1280 bytes as float32; codes plus 5 bytes per scale.
		if after := 320 + 5*map[bool]int{false: 80, true: 4}[perTensor]; rep.WeightBytesBefore != 1280 || rep.WeightBytesAfter != after {
			t.Errorf("weights %d → %d bytes", rep.WeightBytesBefore, rep.WeightBytesAfter)
		}
		n := q.GetGraph().GetNode()[0]
		if n.GetOpType() != "DynamicQuantizeLSTM" || n.GetDomain() != MSDomain || len(n.GetInput()) != 12 {
			t.Fatalf("node %s/%s with %d inputs", n.GetDomain(), n.GetOpType(), len(n.GetInput()))
		}
		if n.GetInput()[0] != "X" || n.GetInput()[3] != "B" || n.GetInput()[4] != "" {
			t.Fatalf("inputs %q", n.GetInput())
		}
		attrs := map[string]bool{}
		for _, a := range n.GetAttribute() {
			attrs[a.GetName()] = true
		}
		if !attrs["hidden_size"] || !attrs["direction"] || !attrs["clip"] {
			t.Errorf("attributes %v were not carried over", attrs)
		}
		ms := false
		for _, o := range q.GetOpsetImport() {
			ms = ms || (o.GetDomain() == MSDomain && o.GetVersion() == 1)
		}
		if !ms {
			t.Error("com.microsoft opset 1 not imported")
		}
		for _, tp := range q.GetGraph().GetInitializer() {
			if tp.GetName() == "W" || tp.GetName() == "R" {
				t.Errorf("float32 %s kept", tp.GetName())
			}
		}
		for wi, k := range map[int]int{1: in, 2: H} {
			orig, _ := initializer(t, m, []string{"", "W", "R"}[wi])
			w := orig.([]float32)
			codes, cdims := initializer(t, q, n.GetInput()[wi])
			scales, sdims := initializer(t, q, n.GetInput()[8+2*(wi-1)])
			zps, zdims := initializer(t, q, n.GetInput()[9+2*(wi-1)])
			c, s, z := codes.([]int8), scales.([]float32), zps.([]int8)
			wantS := []int{dirs, 4 * H}
			if perTensor {
				wantS = []int{dirs}
			}
			if !slices.Equal(cdims, []int{dirs, k, 4 * H}) || !slices.Equal(sdims, wantS) || !slices.Equal(zdims, wantS) {
				t.Fatalf("shapes: codes %v, scales %v, zero points %v", cdims, sdims, zdims)
			}
			for _, v := range z {
				if v != 0 {
					t.Fatal("nonzero zero point")
				}
			}
			for d := range dirs {
				for row := range 4 * H {
					si := d*4*H + row
					if perTensor {
						si = d
					}
					absMax := 0.0
					block := w[(d*4*H+row)*k : (d*4*H+row+1)*k]
					if perTensor {
						block = w[d*4*H*k : (d+1)*4*H*k]
					}
					for _, v := range block {
						absMax = math.Max(absMax, math.Abs(float64(v)))
					}
					if math.Abs(float64(s[si])-absMax/127) > 1e-7 {
						t.Fatalf("scale %d = %v, want %v", si, s[si], absMax/127)
					}
					for p := range k {
						code := c[(d*k+p)*4*H+row]
						if code < -127 {
							t.Fatalf("code %d below −127", code)
						}
						back := float64(code) * float64(s[si])
						if diff := math.Abs(back - float64(w[(d*4*H+row)*k+p])); diff > float64(s[si])*0.5001 {
							t.Fatalf("weight [%d, %d, %d] = %v, code %d·%v = %v", d, row, p, w[(d*4*H+row)*k+p], code, s[si], back)
						}
					}
				}
			}
		}
	}
}

// TestSymmetric checks the rounding on a hand-computed row: scale
// 2.54/127 = 0.02, codes round half to even.
func TestSymmetric(t *testing.T) {
	q, s := symmetric([]float32{2.54, -1.27, 0.01, 0.03, 0}, 1, 1, 5, false, 127)
	if math.Abs(float64(s[0])-0.02) > 1e-9 {
		t.Fatalf("scale %v, want 0.02", s[0])
	}
	want := []int8{127, -64, 0, 2, 0} // −63.5 → −64, 0.5 → 0, 1.5 → 2
	for i := range want {
		if q[i] != want[i] {
			t.Fatalf("codes %v, want %v", q, want)
		}
	}
	if _, s := symmetric(make([]float32, 4), 1, 2, 2, false, 127); s[0] != 1 || s[1] != 1 {
		t.Fatalf("all-zero rows get scales %v, want 1", s)
	}
}

// TestDynamicSkips checks the LSTMs that are left float32, and that a
// model with none to quantize is an error.
func TestDynamicSkips(t *testing.T) {
	m := lstmModel(t, 1, 4, 3, onnx.AttrInt("layout", 1))
	if _, rep, err := Dynamic(m, Options{}); !errors.Is(err, ErrNothingToQuantize) || len(rep.Skipped) != 1 ||
		!strings.Contains(rep.Skipped[0], "layout") {
		t.Fatalf("layout=1: err %v, report %+v", err, rep)
	}
	m = lstmModel(t, 1, 4, 3)
	m.Graph.Input = append(m.Graph.Input, onnx.MakeValueInfo("R", onnx.TensorProto_FLOAT))
	if _, rep, err := Dynamic(m, Options{}); !errors.Is(err, ErrNothingToQuantize) || len(rep.Skipped) != 1 ||
		!strings.Contains(rep.Skipped[0], "not a constant") {
		t.Fatalf("overridable R: err %v, report %+v", err, rep)
	}
	m = lstmModel(t, 1, 4, 3)
	m.Graph.Node[0].OpType = proto.String("GRU")
	if _, _, err := Dynamic(m, Options{}); !errors.Is(err, ErrNothingToQuantize) {
		t.Fatalf("GRU only: err %v", err)
	}
	if _, _, err := Dynamic(&onnx.ModelProto{}, Options{}); err == nil {
		t.Fatal("a model without a graph was accepted")
	}
}

// TestDynamicKerasExports quantizes every committed Keras study export that
// has an LSTM and checks that all its LSTMs were rewritten.
func TestDynamicKerasExports(t *testing.T) {
	for _, path := range testutil.KerasExports(t) {
		m, err := onnx.ReadModel(path)
		if err != nil {
			t.Fatal(err)
		}
		lstms := 0
		for _, n := range m.GetGraph().GetNode() {
			if n.GetOpType() == "LSTM" {
				lstms++
			}
		}
		q, rep, err := Dynamic(m, Options{})
		name := filepath.Base(filepath.Dir(path))
		if lstms == 0 {
			if !errors.Is(err, ErrNothingToQuantize) {
				t.Errorf("%s: no LSTM, err %v", name, err)
			}
			continue
		}
		if err != nil || len(rep.Quantized) != lstms {
			t.Errorf("%s: %d LSTMs, report %+v, err %v", name, lstms, rep, err)
			continue
		}
		for _, n := range q.GetGraph().GetNode() {
			if n.GetOpType() == "LSTM" {
				t.Errorf("%s: an LSTM is left", name)
			}
		}
	}
}

// FuzzDynamic feeds arbitrary bytes decoded as a model: Dynamic returns a
// model or an error, never panics.
func FuzzDynamic(f *testing.F) {
	for _, seed := range []*onnx.ModelProto{lstmModel(f, 2, 3, 2), lstmModel(f, 1, 1, 1)} {
		b, err := proto.Marshal(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := onnx.DecodeModel(b)
		if err != nil {
			return
		}
		_, _, _ = Dynamic(m, Options{})
		_, _, _ = Dynamic(m, Options{PerTensor: true})
	})
}
