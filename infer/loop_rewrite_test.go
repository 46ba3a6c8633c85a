package infer

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// fusedLoops lists the recognised recurrent Loops of s's main graph.
func fusedLoops(s *Session) []string {
	var out []string
	for _, st := range s.steps {
		if l, ok := st.k.(*loopOp); ok {
			if l.fused != nil {
				out = append(out, l.fused.String())
			} else {
				out = append(out, "Loop")
			}
		}
	}
	return out
}

// loadUnrewritten loads path with the recurrent-Loop rewrite off.
func loadUnrewritten(t testing.TB, path string) *Session {
	t.Helper()
	rewriteRecurrentLoops = false
	defer func() { rewriteRecurrentLoops = true }()
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRecurrentLoopRewrite: every Keras 3 recurrent layer exported as a
// Loop runs on the fused kernel, and its outputs equal those of the Loop
// as written within 1e-5 on every data set of the fixture (padding,
// all-padding rows and batch 1 included).
func TestRecurrentLoopRewrite(t *testing.T) {
	want := map[string]string{
		"keras3/gru_stack_softmax":      "GRU(hidden 32, in 32) GRU(hidden 32, in 32)",
		"keras3/bigru":                  "GRU(hidden 32, in 32) GRU(hidden 32, in 32)",
		"keras3/simple_rnn":             "RNN(hidden 32, in 32)",
		"keras3/lstm_mask_zero":         "LSTM(hidden 32, in 32) masked",
		"keras3/lstm_recurrent_dropout": "LSTM(hidden 32, in 32)",
	}
	for _, fx := range producerFixtures(t) {
		w, ok := want[fx.name]
		if !ok {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			path := filepath.Join(fx.dir, "model.onnx")
			s, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(fusedLoops(s), " "); got != w {
				t.Fatalf("recognised %q, want %q", got, w)
			}
			plain := loadUnrewritten(t, path)
			if got := strings.Join(fusedLoops(plain), " "); strings.Contains(got, "(") {
				t.Fatalf("rewrite off, yet %s", got)
			}
			for _, set := range fx.sets {
				ins := readSet(t, set, "input")
				feed := map[string]*Tensor{s.Inputs()[0].Name: ins[0]}
				before := fusedLoopRuns.Load()
				got, err := s.Run(context.Background(), feed)
				if err != nil {
					t.Fatal(err)
				}
				if n := fusedLoopRuns.Load() - before; n != int64(len(fusedLoops(s))) {
					t.Errorf("%s: %d Loops ran fused, want %d", filepath.Base(set), n, len(fusedLoops(s)))
				}
				ref, err := plain.Run(context.Background(), feed)
				if err != nil {
					t.Fatal(err)
				}
				for name, r := range ref {
					if d := maxAbsDiff(got[name], r); d > 1e-5 {
						t.Errorf("%s: output %s differs from the Loop as written by %.3g", filepath.Base(set), name, d)
					} else {
						t.Logf("%s: max |fused − Loop| = %.2g", filepath.Base(set), d)
					}
				}
			}
		})
	}
}

// What the rewrite assumes is checked: a mask with a zero id inside a
// review (not a prefix) runs the Loop as written, with the same result; a
// cell that is not Keras's (a SimpleRNN whose Tanh became Relu) is not
// recognised at all.
func TestRecurrentLoopRewriteFallsBack(t *testing.T) {
	root := testutil.RepoRoot(t)
	path := filepath.Join(root, "testdata", "keras3", "lstm_mask_zero", "model.onnx")
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	plain := loadUnrewritten(t, path)
	x := readSet(t, filepath.Join(root, "testdata", "keras3", "lstm_mask_zero", "test_data_set_0"), "input")[0]
	holes := x.Clone()
	ids := holes.Int32s()
	ids[5], ids[100+7] = 0, 0 // rows 0 and 1 get a masked step among their words
	for _, c := range []struct {
		name  string
		x     *Tensor
		fused bool
	}{{"prefix masks", x, true}, {"a masked step inside a review", holes, false}} {
		feed := map[string]*Tensor{s.Inputs()[0].Name: c.x}
		before := fusedLoopRuns.Load()
		got, err := s.Run(context.Background(), feed)
		if err != nil {
			t.Fatal(err)
		}
		if ran := fusedLoopRuns.Load() > before; ran != c.fused {
			t.Errorf("%s: ran fused %v, want %v", c.name, ran, c.fused)
		}
		ref, err := plain.Run(context.Background(), feed)
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range ref {
			if d := maxAbsDiff(got[name], r); d > 1e-5 {
				t.Errorf("%s: output %s differs from the Loop as written by %.3g", c.name, name, d)
			}
		}
	}
	if d := maxAbsDiff(mustRun(t, s, holes), mustRun(t, s, x)); d == 0 {
		t.Error("masking a word changed nothing: the test input does not exercise the fallback")
	}

	m, err := onnx.ReadModel(filepath.Join(root, "testdata", "keras3", "simple_rnn", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Graph.Node {
		if n.GetOpType() == "Loop" {
			for _, bn := range n.Attribute[0].G.Node {
				if bn.GetOpType() == "Tanh" {
					bn.OpType = proto.String("Relu")
				}
			}
		}
	}
	s, err = LoadModel(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := fusedLoops(s); len(got) != 1 || got[0] != "Loop" {
		t.Errorf("a ReLU SimpleRNN was recognised as %v", got)
	}
}

func mustRun(t *testing.T, s *Session, x *Tensor) *Tensor {
	t.Helper()
	res, err := s.Run(context.Background(), map[string]*Tensor{s.Inputs()[0].Name: x})
	if err != nil {
		t.Fatal(err)
	}
	return res[s.Outputs()[0].Name]
}

// The fused path is safe for concurrent runs (go test -race).
func TestRecurrentLoopRewriteConcurrent(t *testing.T) {
	root := testutil.RepoRoot(t)
	dir := filepath.Join(root, "testdata", "keras3", "bigru")
	s, err := Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	sets := []*Tensor{}
	for _, set := range []string{"test_data_set_0", "test_data_set_1", "test_data_set_2"} {
		sets = append(sets, readSet(t, filepath.Join(dir, set), "input")[0])
	}
	want := make([]*Tensor, len(sets))
	for i, x := range sets {
		want[i] = mustRun(t, s, x)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := sets[g%len(sets)]
			res, err := s.Run(context.Background(), map[string]*Tensor{s.Inputs()[0].Name: x})
			if err == nil && maxAbsDiff(res[s.Outputs()[0].Name], want[g%len(sets)]) != 0 {
				err = fmt.Errorf("run %d differs", g)
			}
			errs <- err
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
