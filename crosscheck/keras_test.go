package crosscheck

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/onnximport"
	"github.com/birnn/birnn/score"
	"github.com/birnn/birnn/train"
)

// kerasTol is the largest |birnn − Keras| accepted on a probability: both
// sides compute in float32, in different orders.
const kerasTol = 1e-5

// trainerRows is how many rows of predictions.json go through the trainer's
// forward pass, one graph per row (10–20 ms each).
const trainerRows = 400

// rowsFor returns how many of n rows a check uses: all of them, or the
// first 200 (trainer: 50) under -short.
func rowsFor(n int, trainer bool) int {
	switch {
	case testing.Short() && trainer:
		return min(n, 50)
	case testing.Short():
		return min(n, 200)
	case trainer:
		return min(n, trainerRows)
	}
	return n
}

// controlFlow are operators the engine refuses by design; a Keras export
// that needs one must be refused at load time, naming it.
var controlFlow = []string{"Loop", "Scan", "If"}

// kerasExports returns the Keras export folders of testdata/keras and
// fails when there are none: the parity tests must not pass vacuously.
func kerasExports(t *testing.T) []*Export {
	t.Helper()
	dirs, err := Exports(filepath.Join(testutil.RepoRoot(t), "testdata", "keras"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no Keras exports (folders with model.onnx) in testdata/keras")
	}
	var out []*Export
	for _, d := range dirs {
		e, err := ReadExport(d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		out = append(out, e)
	}
	return out
}

// kerasLabel is Keras's predicted label of row i: p > 0.5 for a sigmoid,
// the argmax for a softmax.
func kerasLabel(out []float32) int {
	if len(out) == 1 {
		if out[0] > 0.5 {
			return 1
		}
		return 0
	}
	if out[1] > out[0] {
		return 1
	}
	return 0
}

// loadSession loads an export into the engine. ok is false when the
// engine refused it for a control-flow operator, as it must, naming it.
func loadSession(t *testing.T, e *Export) (sess *infer.Session, ok bool) {
	t.Helper()
	sess, err := infer.Load(e.Model())
	if err == nil {
		return sess, true
	}
	var ue *infer.UnsupportedOpError
	if errors.As(err, &ue) && slices.Contains(controlFlow, ue.Op) && slices.Contains(e.Info.ONNX.Ops, ue.Op) {
		t.Logf("refused as expected: %v", err)
		return nil, false
	}
	t.Fatalf("load: %v", err)
	return nil, false
}

// TestKerasInfer runs every Keras export on its predictions.json inputs
// with birnn's engine: every output within kerasTol of Keras's
// model.predict and every label the same.
func TestKerasInfer(t *testing.T) {
	for _, e := range kerasExports(t) {
		t.Run(e.Name, func(t *testing.T) {
			sess, ok := loadSession(t, e)
			if !ok {
				return
			}
			p := e.Predictions
			n := rowsFor(len(p.X), false)
			got, err := RunRows(context.Background(), sess, p.X[:n], 0)
			if err != nil {
				t.Fatal(err)
			}
			d, err := MaxAbsDiff(got, p.Outputs[:n])
			if err != nil {
				t.Fatal(err)
			}
			if d > kerasTol {
				t.Errorf("max |infer − Keras| = %.3g > %g over %d rows", d, kerasTol, n)
			}
			bad := 0
			for i := range got {
				if kerasLabel(got[i]) != kerasLabel(p.Outputs[i]) {
					if bad++; bad <= 3 {
						t.Errorf("row %d: infer %v, Keras %v: labels differ", i, got[i], p.Outputs[i])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d labels differ", bad, len(got))
			}
			t.Logf("max |infer − Keras| = %.3g over %d rows", d, n)
		})
	}
}

// TestKerasRawText scores the raw texts of the test reviews behind
// predictions.json's rows with score.Scorer: the ids must equal those
// Keras was given (tokenizer parity) and the scores Keras's outputs.
func TestKerasRawText(t *testing.T) {
	exports := kerasExports(t)
	test, files, wi := loadTestSplit(t)
	for _, e := range exports {
		t.Run(e.Name, func(t *testing.T) {
			sess, ok := loadSession(t, e)
			if !ok {
				return
			}
			p := e.Predictions
			rows := p.Rows
			if len(rows) != len(p.X) {
				t.Fatalf("predictions.json: %d rows named for %d inputs", len(rows), len(p.X))
			}
			rows = rows[:rowsFor(len(rows), false)]
			names := make([]string, len(rows))
			for i, r := range rows {
				if r < 0 || r >= test.Len() {
					t.Fatalf("predictions.json: row %d outside the test split", r)
				}
				names[i] = test.Files[r]
			}
			texts, err := dataset.ReadTexts(files.Reviews, names)
			if err != nil {
				t.Fatal(err)
			}
			in := e.Info
			sc, err := score.New(sess, wi, score.Options{
				NumWords: in.NumWords, MaxLen: in.MaxLen, Padding: in.Padding,
				Truncating: in.Truncating, IndexFrom: in.IndexFrom, BatchSize: 250,
			})
			if err != nil {
				t.Fatal(err)
			}
			ids := make([][]int32, len(texts))
			for i, text := range texts {
				if ids[i], err = sc.Encode(text); err != nil {
					t.Fatal(err)
				}
			}
			m, err := dataset.PadSequences(ids, in.MaxLen, in.Padding, in.Truncating, 0)
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for i := range rows {
				if got := m.Row(i); !slices.Equal(got, p.X[i]) {
					if bad++; bad <= 3 {
						j := 0
						for j < len(got) && got[j] == p.X[i][j] {
							j++
						}
						t.Errorf("row %d (%s): ids differ from position %d: got %v, Keras %v", rows[i], names[i], j, got[j:min(j+5, len(got))], p.X[i][j:min(j+5, len(got))])
					}
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d rows tokenize differently from Keras", bad, len(rows))
			}
			got, err := sc.Score(context.Background(), texts)
			if err != nil {
				t.Fatal(err)
			}
			d, badLabels := 0.0, 0
			for i, g := range got {
				d = max(d, math.Abs(float64(g)-float64(p.Positive(i))))
				want := kerasLabel(p.Outputs[i])
				if (g > 0.5) != (want == 1) {
					badLabels++
				}
			}
			if d > kerasTol {
				t.Errorf("max |Scorer(text) − Keras| = %.3g > %g over %d reviews", d, kerasTol, len(got))
			}
			if badLabels > 0 {
				t.Errorf("%d of %d labels differ from Keras's", badLabels, len(got))
			}
			t.Logf("max |Scorer(text) − Keras| = %.3g over %d reviews", d, len(got))
		})
	}
}

// trainerPositive returns P(positive) of one row from the trainer's
// forward pass: Evaluate with label 1 gives loss = −log p and accuracy 1
// exactly when the trainer predicts positive.
func trainerPositive(m *model.Model, x []int32) (float64, bool, error) {
	d := train.Data{X: dataset.Matrix{Rows: 1, Cols: len(x), Data: x}, Y: []int32{1}}
	loss, acc, err := train.Evaluate(context.Background(), m, d, 1)
	if err != nil {
		return 0, false, err
	}
	return math.Exp(-loss), acc == 1, nil
}

// TestKerasImport imports every Keras export whose layers birnn has into a
// birnn model and checks the trainer's forward pass against Keras's
// predictions; the others must be refused with an error naming a node of
// the graph.
func TestKerasImport(t *testing.T) {
	for _, e := range kerasExports(t) {
		t.Run(e.Name, func(t *testing.T) {
			mp, err := onnx.ReadModel(e.Model())
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnximport.Import(mp)
			if ok, why := e.Info.Trainable(); !ok {
				var ue *onnximport.UnmappedError
				switch {
				case err == nil:
					t.Fatalf("import succeeded, but %s has no birnn equivalent", why)
				case !errors.As(err, &ue) || !errors.Is(err, onnximport.ErrUnmapped):
					t.Fatalf("error %v (%T), want an *onnximport.UnmappedError for %s", err, err, why)
				case ue.Node == "" || !slices.Contains(e.Info.ONNX.Ops, ue.Op):
					t.Fatalf("error %q names node %q (%s), want a node of the graph (ops %v)", err, ue.Node, ue.Op, e.Info.ONNX.Ops)
				}
				t.Logf("%s → %v", why, err)
				return
			}
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			p := e.Predictions
			d, n := 0.0, rowsFor(len(p.X), true)
			for i := range n {
				got, pos, err := trainerPositive(m, p.X[i])
				if err != nil {
					t.Fatalf("row %d: %v", i, err)
				}
				want := p.Positive(i)
				d = max(d, math.Abs(got-float64(want)))
				if pos != (kerasLabel(p.Outputs[i]) == 1) {
					t.Errorf("row %d: trainer p = %.6f, Keras %v: labels differ", i, got, p.Outputs[i])
				}
			}
			if d > kerasTol {
				t.Errorf("max |trainer − Keras| = %.3g > %g over %d rows", d, kerasTol, n)
			}
			t.Logf("max |trainer − Keras| = %.3g over %d rows", d, n)
		})
	}
}

// TestKerasTestLabels checks each test_labels.txt against the test split's
// labels as birnn's dataset package orders them: their agreement must be
// Keras's own test accuracy (metrics.json), which holds only if both
// sides put the 25,000 reviews in the same order.
func TestKerasTestLabels(t *testing.T) {
	exports := kerasExports(t)
	var test *dataset.Split
	for _, e := range exports {
		path := filepath.Join(e.Dir, TestLabelsFile)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if e.Info.Kind == "study" {
				t.Errorf("%s: a study run without %s", e.Name, TestLabelsFile)
			}
			continue
		}
		if test == nil {
			test, _, _ = loadTestSplit(t)
		}
		t.Run(e.Name, func(t *testing.T) {
			labels, err := ReadLabels(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(labels) != test.Len() || e.Metrics.N != test.Len() {
				t.Fatalf("%d labels, metrics.json n = %d, test split %d reviews", len(labels), e.Metrics.N, test.Len())
			}
			y := make([]int8, len(test.Y))
			for i, v := range test.Y {
				y[i] = int8(v)
			}
			acc := float64(Agreement(labels, y)) / float64(len(y))
			// Keras's evaluate and predict may split a probability of
			// 0.5 ± ε differently: allow two reviews.
			if d := math.Abs(acc - e.Metrics.Accuracy); d > 2.0/float64(len(y)) {
				t.Errorf("labels agree with the test split on %.5f, Keras's accuracy is %.5f", acc, e.Metrics.Accuracy)
			}
			t.Logf("accuracy of test_labels.txt %.5f, metrics.json %.5f", acc, e.Metrics.Accuracy)
		})
	}
}
