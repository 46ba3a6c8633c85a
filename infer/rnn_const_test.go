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

// packedBlocks counts the blocks cached across s's recurrent kernels.
func packedBlocks(s *Session) int {
	n := 0
	for _, op := range rnnOps(s) {
		op.mats.m.Range(func(any, any) bool { n++; return true })
	}
	return n
}

// TestRecurrentConstantR checks the packing kept across runs when R is an
// initializer: repeated runs on new inputs equal the same node given R as a
// graph input (packed afresh on every run), the cache is filled only for a
// fixed R, and an initializer a run may override is never taken as fixed.
func TestRecurrentConstantR(t *testing.T) {
	ctx := context.Background()
	for _, c := range rnnCases() {
		if c.double {
			continue // the float64 path packs nothing
		}
		t.Run(c.name, func(t *testing.T) {
			fixed, feeds := rnnCaseModel[float32](t, c)
			i := slices.IndexFunc(fixed.Graph.Initializer, func(tp *onnx.TensorProto) bool { return tp.GetName() == "R" })
			rProto := fixed.Graph.Initializer[i]
			rT, err := FromProto(rProto)
			if err != nil {
				t.Fatal(err)
			}
			var rDims []onnx.Dim
			for _, d := range rT.Shape {
				rDims = append(rDims, onnx.DimValue(int64(d)))
			}
			// asInput: R is a graph input fed on every run.
			asInput := proto.Clone(fixed).(*onnx.ModelProto)
			asInput.Graph.Initializer = slices.Delete(asInput.Graph.Initializer, i, i+1)
			asInput.Graph.Input = append(asInput.Graph.Input, onnx.MakeValueInfo("R", onnx.TensorProto_FLOAT, rDims...))
			// overridable: R is an initializer that is also a graph input.
			overridable := proto.Clone(fixed).(*onnx.ModelProto)
			overridable.Graph.Input = append(overridable.Graph.Input, onnx.MakeValueInfo("R", onnx.TensorProto_FLOAT, rDims...))

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
			// feeds follow the graph inputs of the case: X first.
			feedOf := func(x, r *Tensor) map[string]*Tensor {
				m := map[string]*Tensor{}
				for k, f := range feeds {
					m[fixed.Graph.Input[k].GetName()] = f
				}
				m["X"] = x
				if r != nil {
					m["R"] = r
				}
				return m
			}
			rng := rand.New(rand.NewPCG(11, uint64(len(c.name))))
			otherR := New(rT.Shape, randSlice[float32](rng, rT.Len(), 0.6))
			for run := range 3 {
				x := New(feeds[0].Shape, randSlice[float32](rng, feeds[0].Len(), 1.5))
				want, err := sInput.Run(ctx, feedOf(x, rT))
				if err != nil {
					t.Fatal(err)
				}
				got, err := sFixed.Run(ctx, feedOf(x, nil))
				if err != nil {
					t.Fatal(err)
				}
				for name, w := range want {
					if err := Compare(got[name], w, 0, 0); err != nil {
						t.Errorf("run %d, %s with R fixed: %v", run, name, err)
					}
				}
				// The overridable session, with and without an override.
				wantOther, err := sInput.Run(ctx, feedOf(x, otherR))
				if err != nil {
					t.Fatal(err)
				}
				gotOther, err := sOver.Run(ctx, feedOf(x, otherR))
				if err != nil {
					t.Fatal(err)
				}
				gotDefault, err := sOver.Run(ctx, feedOf(x, nil))
				if err != nil {
					t.Fatal(err)
				}
				for name := range want {
					if err := Compare(gotOther[name], wantOther[name], 0, 0); err != nil {
						t.Errorf("run %d, %s with R overridden: %v", run, name, err)
					}
					if err := Compare(gotDefault[name], want[name], 0, 0); err != nil {
						t.Errorf("run %d, %s with R overridable but not overridden: %v", run, name, err)
					}
				}
			}
			if packedBlocks(sFixed) == 0 {
				t.Error("R is an initializer but no packed block was kept")
			}
			if n := packedBlocks(sInput) + packedBlocks(sOver); n != 0 {
				t.Errorf("%d packed blocks kept for an R that runs can change", n)
			}
		})
	}
}
