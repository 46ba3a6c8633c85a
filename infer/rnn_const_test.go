package infer

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/birnn/birnn/onnx"
	"google.golang.org/protobuf/proto"
)

// rnnOps returns the recurrent kernels of s.
func rnnOps(s *Session) []*rnnOp {
	var ops []*rnnOp
	for _, st := range s.steps {
		if op, ok := st.k.(*rnnOp); ok {
			ops = append(ops, op)
		}
	}
	return ops
}

// packedBlocks counts the blocks cached across s's recurrent kernels: the
// general cells' packed R blocks and the fused kernels' packed directions.
func packedBlocks(s *Session) int {
	n := 0
	for _, op := range rnnOps(s) {
		op.mats.m.Range(func(any, any) bool { n++; return true })
		if op.fused != nil {
			n += len(op.fused.fw.dirs)
		}
	}
	return n
}

// TestRecurrentConstantWeights checks the packing kept across runs when W
// and R are initializers: repeated runs on new inputs equal the same node
// given W and R as graph inputs (packed afresh on every run), the cache is
// filled only for fixed weights, and initializers a run may override are
// never taken as fixed.
func TestRecurrentConstantWeights(t *testing.T) {
	ctx := context.Background()
	for _, c := range rnnCases() {
		if c.double {
			continue // the float64 path packs nothing
		}
		t.Run(c.name, func(t *testing.T) {
			fixed, feeds := rnnCaseModel[float32](t, c)
			weights := map[string]*Tensor{}
			asInput := proto.Clone(fixed).(*onnx.ModelProto)     // W and R are graph inputs fed on every run
			overridable := proto.Clone(fixed).(*onnx.ModelProto) // W and R are initializers and graph inputs
			for _, name := range []string{"W", "R"} {
				i := slices.IndexFunc(asInput.Graph.Initializer, func(tp *onnx.TensorProto) bool { return tp.GetName() == name })
				w, err := FromProto(asInput.Graph.Initializer[i])
				if err != nil {
					t.Fatal(err)
				}
				weights[name] = w
				var dims []onnx.Dim
				for _, d := range w.Shape {
					dims = append(dims, onnx.DimValue(int64(d)))
				}
				asInput.Graph.Initializer = slices.Delete(asInput.Graph.Initializer, i, i+1)
				asInput.Graph.Input = append(asInput.Graph.Input, onnx.MakeValueInfo(name, onnx.TensorProto_FLOAT, dims...))
				overridable.Graph.Input = append(overridable.Graph.Input, onnx.MakeValueInfo(name, onnx.TensorProto_FLOAT, dims...))
			}
			sFixed, err := LoadModel(fixed)
			if err != nil {
				t.Fatal(err)
			}
			sInput, err := LoadModel(asInput)
			if err != nil {
				t.Fatal(err)
			}
			sOver, err := LoadModel(overridable)
			if err != nil {
				t.Fatal(err)
			}
			// feeds follow the graph inputs of the case, X first.
			feedOf := func(x *Tensor, w map[string]*Tensor) map[string]*Tensor {
				m := map[string]*Tensor{}
				for k, f := range feeds {
					m[fixed.Graph.Input[k].GetName()] = f
				}
				m["X"] = x
				for name, t := range w {
					m[name] = t
				}
				return m
			}
			rng := rand.New(rand.NewPCG(11, uint64(len(c.name))))
			other := map[string]*Tensor{}
			for name, w := range weights {
				other[name] = New(w.Shape, randSlice[float32](rng, w.Len(), 0.6))
			}
			for run := range 3 {
				x := New(feeds[0].Shape, randSlice[float32](rng, feeds[0].Len(), 1.5))
				want, err := sInput.Run(ctx, feedOf(x, weights))
				if err != nil {
					t.Fatal(err)
				}
				got, err := sFixed.Run(ctx, feedOf(x, nil))
				if err != nil {
					t.Fatal(err)
				}
				for name, w := range want {
					if err := Compare(got[name], w, 0, 0); err != nil {
						t.Errorf("run %d, %s with fixed weights: %v", run, name, err)
					}
				}
				// The overridable session, with and without an override.
				wantOther, err := sInput.Run(ctx, feedOf(x, other))
				if err != nil {
					t.Fatal(err)
				}
				gotOther, err := sOver.Run(ctx, feedOf(x, other))
				if err != nil {
					t.Fatal(err)
				}
				gotDefault, err := sOver.Run(ctx, feedOf(x, nil))
				if err != nil {
					t.Fatal(err)
				}
				for name := range want {
					if err := Compare(gotOther[name], wantOther[name], 0, 0); err != nil {
						t.Errorf("run %d, %s with weights overridden: %v", run, name, err)
					}
					if err := Compare(gotDefault[name], want[name], 0, 0); err != nil {
						t.Errorf("run %d, %s with weights overridable but not overridden: %v", run, name, err)
					}
				}
			}
			if packedBlocks(sFixed) == 0 {
				t.Error("W and R are initializers but no packed block was kept")
			}
			if n := packedBlocks(sInput) + packedBlocks(sOver); n != 0 {
				t.Errorf("%d packed blocks kept for weights that runs can change", n)
			}
		})
	}
}
