package onnximport_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/crosscheck"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/onnximport"
)

// kerasUnmappable are the Keras exports in testdata/keras that hold layers
// birnn has no equivalent of, with the operator the import error must name.
var kerasUnmappable = map[string]string{
	"simple_rnn":        "(Loop)", // tf2onnx keeps Keras's SimpleRNN as a while loop
	"lstm_hard_sigmoid": "(LSTM)",
	"lstm_mask_zero":    "(Loop)",
}

// kerasRows is how many rows of predictions.json each model is checked on:
// the reference forward pass is plain float64 loops.
const kerasRows = 64

// TestImportKeras imports every Keras/tf2onnx export in testdata/keras and
// checks the imported model against Keras's own predictions (≤ 1e-5): the
// float64 reference forward pass, the Go trainer's forward pass, and
// birnn's engine and ONNX Runtime on the model's birnn re-export. For the
// layers birnn does not have, the import must fail naming the node.
func TestImportKeras(t *testing.T) {
	dirs := testutil.KerasExports(t)
	for _, path := range dirs {
		dir := filepath.Dir(path)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			mp, err := onnx.ReadModel(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnximport.Import(mp)
			if op, ok := kerasUnmappable[name]; ok {
				if err == nil {
					t.Fatalf("import succeeded; a %s layer has no birnn equivalent", op)
				}
				if !errors.Is(err, onnximport.ErrUnmapped) || !strings.Contains(err.Error(), op) {
					t.Fatalf("error %q, want an unmapped-node error naming %s", err, op)
				}
				return
			}
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			p, err := crosscheck.ReadPredictions(filepath.Join(dir, crosscheck.PredictionsFile))
			if err != nil {
				t.Fatal(err)
			}
			n := min(kerasRows, len(p.X))
			seq := len(p.X[0])
			if seq != m.Config.Data.MaxLen {
				t.Errorf("imported maxlen %d, the Keras inputs have %d", m.Config.Data.MaxLen, seq)
			}
			ids := make([]int32, 0, n*seq)
			var want []float64
			for r := range n {
				ids = append(ids, p.X[r]...)
				for _, v := range p.Outputs[r] {
					want = append(want, float64(v))
				}
			}
			got := modeltest.RefForward(m, ids, n, seq)
			if len(got) != len(want) {
				t.Fatalf("%d outputs, Keras has %d", len(got), len(want))
			}
			var f []float32
			for _, v := range got {
				f = append(f, float32(v))
			}
			if d := modeltest.MaxAbsDiff(f, want); d > 1e-5 {
				t.Errorf("max |imported (reference forward) − Keras| = %.3g > 1e-5 over %d rows", d, n)
			}

			// The Go trainer's forward pass on the imported model, and
			// birnn's engine and ONNX Runtime on its re-export (trained
			// weights), against Keras.
			units := len(p.Outputs[0])
			nt := min(n, 16)
			tp := modeltest.TrainerProbs(t, m, ids[:nt*seq], nt, seq)
			var dTrain float64
			for r := range nt {
				dTrain = math.Max(dTrain, math.Abs(tp[r]-float64(p.Outputs[r][units-1])))
			}
			t.Logf("max |reference − Keras| %.2g over %d rows, |trainer − Keras| %.2g over %d rows", modeltest.MaxAbsDiff(f, want), n, dTrain, nt)
			if dTrain > 1e-5 {
				t.Errorf("max |trainer on the import − Keras| = %.3g > 1e-5 over %d rows", dTrain, nt)
			}
			mp2 := modeltest.ExportProto(t, m, export.Options{})
			s, err := infer.LoadModel(mp2)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Run(context.Background(), map[string]*infer.Tensor{export.InputName: infer.NewInt32([]int{n, seq}, ids)})
			if err != nil {
				t.Fatal(err)
			}
			if d := modeltest.MaxAbsDiff(res[export.OutputName].Float32s(), want); d > 1e-5 {
				t.Errorf("max |infer on the re-export − Keras| = %.3g > 1e-5 over %d rows", d, n)
			}
			b2, err := proto.Marshal(mp2)
			if err != nil {
				t.Fatal(err)
			}
			if d := modeltest.MaxAbsDiff(modeltest.ORTRun(t, b2, ids, n, seq, false), want); d > 1e-5 {
				t.Errorf("max |ORT on the re-export − Keras| = %.3g > 1e-5 over %d rows", d, n)
			}
		})
	}
}
