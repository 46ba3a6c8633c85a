package onnximport_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/onnximport"
)

// TestImportWithoutMetadata strips the birnn metadata, so the architecture
// must be read from the graph alone: layers, merge modes, activations.
func TestImportWithoutMetadata(t *testing.T) {
	for i, a := range modeltest.Architectures(t) {
		t.Run(a.Name, func(t *testing.T) {
			m := modeltest.RandomModel(t, a.Cfg, uint64(i+200))
			mp := modeltest.ExportProto(t, m, export.Options{})
			mp.MetadataProps = nil
			m2 := mustImport(t, mp)
			modeltest.SameParams(t, m2, m)
			got, want := modeltest.Layers(t, m2), modeltest.Layers(t, m)
			for j := range want {
				if want[j].Recurrent() {
					// A recurrent layer's input dropout, like its
					// recurrent_dropout, is a training setting the graph
					// does not hold.
					want[j].Rate = 0
				}
				if got[j] != want[j] {
					t.Errorf("layer %d: %+v, want %+v", j, got[j], want[j])
				}
			}
			if m2.Config.Data.NumWords != a.Cfg.Data.NumWords || m2.Config.Model.Embedding.Dim != a.Cfg.Model.Embedding.Dim {
				t.Errorf("num_words %d dim %d, want %d %d", m2.Config.Data.NumWords, m2.Config.Model.Embedding.Dim, a.Cfg.Data.NumWords, a.Cfg.Model.Embedding.Dim)
			}
		})
	}
}

// tfZeroState rewrites every LSTM of mp to take a zero initial state built
// at run time from the input's shape, the same tensor for initial_h and
// initial_c, as tf2onnx does; it also moves half of each Wb into Rb.
func tfZeroState(t *testing.T, mp *onnx.ModelProto) {
	g := mp.Graph
	var nodes []*onnx.NodeProto
	mk := func(name string, v []int64) {
		tp, err := onnx.MakeTensor(name, []int64{int64(len(v))}, v)
		if err != nil {
			t.Fatal(err)
		}
		g.Initializer = append(g.Initializer, tp)
	}
	mk("zs/one", []int64{1})
	mk("zs/two", []int64{2})
	for _, n := range g.Node {
		if n.GetOpType() == "LSTM" {
			var dirs, h int64 = 1, 0
			for _, a := range n.Attribute {
				if a.GetName() == "direction" && string(a.GetS()) == "bidirectional" {
					dirs = 2
				}
				if a.GetName() == "hidden_size" {
					h = a.GetI()
				}
			}
			p := n.GetName() + "/zs/"
			mk(p+"dirs", []int64{dirs})
			mk(p+"h", []int64{h})
			nodes = append(nodes,
				onnx.MakeNode(p+"Shape", "Shape", []string{n.Input[0]}, []string{p + "shape"}),
				onnx.MakeNode(p+"Slice", "Slice", []string{p + "shape", "zs/one", "zs/two"}, []string{p + "batch"}),
				onnx.MakeNode(p+"Concat", "Concat", []string{p + "dirs", p + "batch", p + "h"}, []string{p + "dims"}, onnx.AttrInt("axis", 0)),
				onnx.MakeNode(p+"ConstantOfShape", "ConstantOfShape", []string{p + "dims"}, []string{p + "zero"}))
			for len(n.Input) < 7 {
				n.Input = append(n.Input, "")
			}
			n.Input[5], n.Input[6] = p+"zero", p+"zero"
			// Move half of Wb to Rb: same function, a different split.
			for _, tp := range g.Initializer {
				if tp.GetName() == n.Input[3] {
					d, _ := onnx.TensorData(tp)
					b := d.([]float32)
					for dir := range int(dirs) {
						for k := range 4 * int(h) {
							half := b[dir*8*int(h)+k] / 2
							b[dir*8*int(h)+k] -= half
							b[dir*8*int(h)+4*int(h)+k] = half
						}
					}
					tp.RawData = onnx.EncodeRaw(b)
				}
			}
		}
		nodes = append(nodes, n)
	}
	g.Node = nodes
}

// TestImportTF2ONNXZeroState imports graphs whose LSTMs take a run-time
// zero state and a split bias, checking the result against ONNX Runtime
// on the modified graph.
func TestImportTF2ONNXZeroState(t *testing.T) {
	for i, a := range modeltest.Architectures(t) {
		t.Run(a.Name, func(t *testing.T) {
			m := modeltest.RandomModel(t, a.Cfg, uint64(i+300))
			mp := modeltest.ExportProto(t, m, export.Options{})
			mp.MetadataProps = nil
			tfZeroState(t, mp)
			b := modeltest.Marshal(t, mp)
			m2 := mustImport(t, mp)
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			ids := modeltest.PostPad(m2, modeltest.RandomIDs(rng, 3, 11, a.Cfg.Data.NumWords), 3, 11)
			got, want := modeltest.RefForward(m2, ids, 3, 11), modeltest.ORTRun(t, b, ids, 3, 11, false)
			if d := modeltest.MaxAbsDiff(want, got); d > 1e-5 {
				t.Errorf("max |imported − ORT on the graph| = %.3g > 1e-5", d)
			}
		})
	}
}

// TestImportErrors checks that graphs that do not map are refused with an
// error naming the node.
func TestImportErrors(t *testing.T) {
	c := modeltest.Architectures(t)
	var cfgArch modeltest.Arch
	for _, a := range c {
		if a.Name == "mixed_softmax" {
			cfgArch = a
		}
	}
	m := modeltest.RandomModel(t, cfgArch.Cfg, 1)
	fresh := func() *onnx.ModelProto {
		mp := modeltest.ExportProto(t, m, export.Options{})
		return mp
	}
	find := func(mp *onnx.ModelProto, op string) *onnx.NodeProto {
		for _, n := range mp.Graph.Node {
			if n.GetOpType() == op {
				return n
			}
		}
		t.Fatalf("no %s node", op)
		return nil
	}
	cases := []struct {
		name   string
		edit   func(mp *onnx.ModelProto)
		substr []string
	}{
		{"loop", func(mp *onnx.ModelProto) {
			n := find(mp, "LSTM")
			n.OpType = proto.String("Loop")
		}, []string{`"lstm_0/LSTM"`, "(Loop)"}},
		{"clip", func(mp *onnx.ModelProto) {
			find(mp, "LSTM").Attribute = append(find(mp, "LSTM").Attribute, onnx.AttrFloat("clip", 3))
		}, []string{`"lstm_0/LSTM" (LSTM)`, "clip"}},
		{"hard_sigmoid", func(mp *onnx.ModelProto) {
			find(mp, "LSTM").Attribute = append(find(mp, "LSTM").Attribute, onnx.AttrStrings("activations", "HardSigmoid", "Tanh", "Tanh"))
		}, []string{`"lstm_0/LSTM" (LSTM)`, "HardSigmoid"}},
		{"reverse", func(mp *onnx.ModelProto) {
			for _, a := range find(mp, "LSTM").Attribute {
				if a.GetName() == "direction" {
					a.S = []byte("reverse")
				}
			}
		}, []string{`"lstm_0/LSTM" (LSTM)`, "reverse"}},
		{"nonzero_state", func(mp *onnx.ModelProto) {
			n := find(mp, "LSTM")
			n.Input = append(n.Input, "", "embedding")
		}, []string{`"lstm_0/LSTM" (LSTM)`, "initial_h"}},
		{"peepholes", func(mp *onnx.ModelProto) {
			n := find(mp, "LSTM")
			n.Input = append(n.Input, "", "", "", "lstm_0.B")
		}, []string{`"lstm_0/LSTM" (LSTM)`, "peephole"}},
		{"no_embedding", func(mp *onnx.ModelProto) {
			find(mp, "Gather").Input[0] = "input_ids"
		}, []string{"no embedding"}},
		{"dense_not_constant", func(mp *onnx.ModelProto) {
			n := find(mp, "MatMul")
			n.Input[1] = n.Input[0]
		}, []string{`"dense_3/MatMul" (MatMul)`, "constant"}},
		{"unknown_domain", func(mp *onnx.ModelProto) {
			find(mp, "Transpose").Domain = proto.String("com.microsoft")
		}, []string{`"embedding/Transpose" (Transpose)`, "com.microsoft"}},
		{"relu_in_chain", func(mp *onnx.ModelProto) {
			mm := find(mp, "MatMul")
			relu := onnx.MakeNode("extra_relu", "Relu", []string{mm.Input[0]}, []string{"extra_relu/out"})
			mm.Input[0] = "extra_relu/out"
			var nodes []*onnx.NodeProto
			for _, n := range mp.Graph.Node {
				if n == mm {
					nodes = append(nodes, relu)
				}
				nodes = append(nodes, n)
			}
			mp.Graph.Node = nodes
		}, []string{`"extra_relu" (Relu)`, "no birnn layer"}},
		{"config_disagrees", func(mp *onnx.ModelProto) {
			for _, kv := range mp.MetadataProps {
				if kv.GetKey() == model.MetaConfig {
					kv.Value = proto.String(strings.Replace(kv.GetValue(), "units: 2", "units: 3", 1))
				}
			}
		}, []string{"model.layers[3].units"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mp := fresh()
			tc.edit(mp)
			_, err := onnximport.Import(mp)
			if err == nil {
				t.Fatal("import succeeded")
			}
			for _, s := range tc.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if tc.name != "config_disagrees" && !errors.Is(err, onnximport.ErrUnmapped) {
				t.Errorf("error %v does not wrap ErrUnmapped", err)
			}
		})
	}
}

// TestImportMergeScale checks that a sum merge scaled by anything but ½
// is refused rather than read as ave.
func TestImportMergeScale(t *testing.T) {
	var a modeltest.Arch
	for _, x := range modeltest.Architectures(t) {
		if x.Name == "bi_ave_seq" {
			a = x
		}
	}
	mp := modeltest.ExportProto(t, modeltest.RandomModel(t, a.Cfg, 1), export.Options{})
	mp.MetadataProps = nil
	if _, err := onnximport.Import(mp); err != nil {
		t.Fatalf("ave: %v", err)
	}
	for _, tp := range mp.Graph.Initializer {
		if tp.GetName() == "const/half" {
			tp.RawData = onnx.EncodeRaw([]float32{0.25})
		}
	}
	_, err := onnximport.Import(mp)
	if err == nil || !strings.Contains(err.Error(), `"lstm_0/merge/Mul" (Mul)`) {
		t.Fatalf("merge scaled by 0.25: error %v, want one naming lstm_0/merge/Mul", err)
	}
}

// TestImportDamagedGraphs damages each node and initializer of exports in
// turn (inputs, outputs or attributes removed, dims changed): Import must
// return an error or a model, never panic.
func TestImportDamagedGraphs(t *testing.T) {
	for i, a := range modeltest.Architectures(t) {
		if a.Name != "mixed_softmax" && a.Name != "bi_ave_seq" && a.Name != "dense_heads" {
			continue
		}
		b := modeltest.Export(t, modeltest.RandomModel(t, a.Cfg, uint64(i)), export.Options{})
		base := modeltest.Decode(t, b)
		for k := range base.Graph.Node {
			for damage := range 4 {
				mp := modeltest.Decode(t, b)
				n := mp.Graph.Node[k]
				switch damage {
				case 0:
					n.Input = nil
				case 1:
					n.Output = nil
				case 2:
					n.Attribute = nil
				case 3:
					n.Input = n.Input[:len(n.Input)/2]
				}
				m, err := onnximport.Import(mp)
				if err == nil && m == nil {
					t.Errorf("%s node %d damage %d: no model and no error", a.Name, k, damage)
				}
			}
		}
		for k := range base.Graph.Initializer {
			mp := modeltest.Decode(t, b)
			mp.Graph.Initializer[k].Dims = append(mp.Graph.Initializer[k].Dims, 2)
			// Weights must be refused; the shape plumbing's constants are not
			// read by Import.
			if _, err := onnximport.Import(mp); err == nil && !strings.HasPrefix(base.Graph.Initializer[k].GetName(), "const/") {
				t.Errorf("%s: initializer %s with an extra dim imported", a.Name, base.Graph.Initializer[k].GetName())
			}
		}
	}
}

// TestImportGemm rewrites each MatMul + Add of an export as one Gemm with a
// transposed weight (transB = 1), as graph optimizers do; the import must
// give back the same Dense weights.
func TestImportGemm(t *testing.T) {
	var a modeltest.Arch
	for _, x := range modeltest.Architectures(t) {
		if x.Name == "dense_heads" {
			a = x
		}
	}
	m := modeltest.RandomModel(t, a.Cfg, 5)
	mp := modeltest.ExportProto(t, m, export.Options{})
	mp.MetadataProps = nil
	g := mp.Graph
	var nodes []*onnx.NodeProto
	skip := map[*onnx.NodeProto]bool{}
	for k, n := range g.Node {
		if skip[n] {
			continue
		}
		if n.GetOpType() != "MatMul" {
			nodes = append(nodes, n)
			continue
		}
		add := g.Node[k+1]
		skip[add] = true
		w := m.Param(n.Input[1][:len(n.Input[1])-2] + ".W")
		in, units := w.Shape[0], w.Shape[1]
		wt := make([]float32, len(w.Data))
		for i := range in {
			for j := range units {
				wt[j*in+i] = w.Data[i*units+j]
			}
		}
		tp, err := onnx.MakeTensor(n.Input[1]+"T", []int64{int64(units), int64(in)}, wt)
		if err != nil {
			t.Fatal(err)
		}
		g.Initializer = append(g.Initializer, tp)
		nodes = append(nodes, onnx.MakeNode(n.GetName()+"/Gemm", "Gemm", []string{n.Input[0], n.Input[1] + "T", add.Input[1]}, add.Output, onnx.AttrInt("transB", 1)))
	}
	g.Node = nodes
	b := modeltest.Marshal(t, mp)
	m2 := mustImport(t, mp)
	modeltest.SameParams(t, m2, m)
	ids := modeltest.RandomIDs(rand.New(rand.NewPCG(1, 1)), 3, 5, a.Cfg.Data.NumWords)
	if d := modeltest.MaxAbsDiff(modeltest.ORTRun(t, b, ids, 3, 5, false), modeltest.RefForward(m2, ids, 3, 5)); d > 1e-5 {
		t.Errorf("max |ORT on the Gemm graph − imported| = %.3g", d)
	}
}

// mustImport is onnximport.Import(mp), failing t on an error.
func mustImport(t *testing.T, mp *onnx.ModelProto) *model.Model {
	t.Helper()
	m, err := onnximport.Import(mp)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return m
}

// FuzzImport feeds mutated ONNX graphs — birnn's exports of every small
// architecture (GRU, SimpleRNN, LSTM, masks, pools, dropout) and Keras's
// tf2onnx exports — to Import: it must return a model or an error, never
// panic, and a model it returns must be valid and export again.
func FuzzImport(f *testing.F) {
	for i, a := range modeltest.Architectures(f) {
		if a.Cfg.Data.NumWords > 100 {
			continue // the study's runs: too large to mutate usefully
		}
		f.Add(modeltest.Export(f, modeltest.RandomModel(f, a.Cfg, uint64(i+1)), export.Options{}))
	}
	for _, p := range testutil.KerasExports(f) {
		if b, err := os.ReadFile(p); err == nil && len(b) < 400_000 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mp, err := onnx.DecodeModel(b)
		if err != nil {
			return
		}
		type result struct {
			m   *model.Model
			err error
		}
		done := make(chan result, 1)
		go func() {
			m, err := onnximport.Import(mp)
			done <- result{m, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Import ran for more than 10 s on a %d-byte model", len(b))
		}
		m, err := r.m, r.err
		if err != nil {
			return
		}
		if _, err := m.Layers(); err != nil {
			t.Fatalf("Import returned an invalid model: %v", err)
		}
		if _, err := export.Model(m, export.Options{}); err != nil {
			t.Fatalf("an imported model does not export: %v", err)
		}
	})
}
