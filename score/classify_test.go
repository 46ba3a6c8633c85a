package score_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/score"
)

// kerasFixture is the part of a testdata/keras/train_parity fixture a
// scorer test reads: the config, the rows, Keras's trained weights and
// Keras's own predictions of those rows.
type kerasFixture struct {
	Config      string    `json:"config"`
	X           []int32   `json:"x"`
	Rows        int       `json:"rows"`
	Seq         int       `json:"seq"`
	Predictions []float64 `json:"predictions"`
	Final       map[string]struct {
		Data []float32 `json:"data"`
	} `json:"final"`
}

// kerasTrained is the model of fixture name with Keras's trained weights.
func kerasTrained(t *testing.T, name string) (*model.Model, kerasFixture) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "testdata", "keras", "train_parity", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f kerasFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Parse([]byte(f.Config))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params {
		copy(p.Data, f.Final[p.Name].Data)
	}
	return m, f
}

// TestClassifyWideSoftmax scores the rows of two Keras-trained softmax
// models (a 4-class Bi-SimpleRNN and a 3-class masked LSTM) through the
// export: every class probability must be Keras's own prediction (≤ 1e-5),
// the class its argmax, and the label the class name the export records;
// Score refuses the heads (no P(positive) to give).
func TestClassifyWideSoftmax(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		names   []string
	}{
		{"bisimple_rnn_sum_softmax4", []string{"world", "sports", "business", "science"}},
		{"masked_lstm_seq_avgpool_softmax3", nil},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			m, f := kerasTrained(t, tc.fixture)
			var opts export.Options
			if tc.names != nil {
				b, _ := json.Marshal(tc.names)
				opts.Labels = string(b)
			}
			s := newScorer(t, modeltest.ExportProto(t, m, opts), nil, score.Options{})
			if !slices.Equal(s.Classes(), tc.names) {
				t.Errorf("Classes() = %q, want %q", s.Classes(), tc.names)
			}
			rows := make([][]int32, f.Rows)
			for r := range rows {
				rows[r] = f.X[r*f.Seq : (r+1)*f.Seq]
			}
			res, err := s.ClassifyIDs(context.Background(), rows)
			if err != nil {
				t.Fatal(err)
			}
			k := len(f.Predictions) / f.Rows
			var worst float64
			classes := map[int]bool{}
			for r, got := range res {
				want := f.Predictions[r*k : (r+1)*k]
				if len(got.Probs) != k {
					t.Fatalf("row %d: %d probabilities, want %d", r, len(got.Probs), k)
				}
				arg := 0
				for j, p := range want {
					worst = math.Max(worst, math.Abs(float64(got.Probs[j])-p))
					if p > want[arg] {
						arg = j
					}
				}
				if got.Class != arg {
					t.Errorf("row %d: class %d, Keras's argmax %d (%v)", r, got.Class, arg, want)
				}
				classes[got.Class] = true
				wantLabel := string(rune('0' + arg))
				if tc.names != nil {
					wantLabel = tc.names[arg]
				}
				if l := s.Label(got.Class, len(got.Probs)); l != wantLabel {
					t.Errorf("row %d: label %q, want %q", r, l, wantLabel)
				}
			}
			t.Logf("max |scorer − Keras| over %d×%d probabilities %.2g; %d distinct classes predicted", f.Rows, k, worst, len(classes))
			if worst > 1e-5 {
				t.Errorf("max |scorer − Keras| = %.3g > 1e-5", worst)
			}
			if len(classes) < 2 {
				t.Errorf("every row is class %v: the check of the argmax is weak", classes)
			}
			if _, err := s.ScoreIDs(context.Background(), rows[:1]); !errors.Is(err, score.ErrMultiClass) {
				t.Errorf("ScoreIDs on a %d-class head: %v, want ErrMultiClass", k, err)
			}
		})
	}
}

// TestClassifyBinary: a sigmoid head classifies as [1 − p, p] with Score's
// p, class 1 only above 0.5, labels negative/positive; a 2-class softmax
// head's probabilities are its softmax row and Score its column 1
// (Keras's predictions of the fixtures' rows, ≤ 1e-5).
func TestClassifyBinary(t *testing.T) {
	for _, fixture := range []string{"masked_bilstm_seq_lstm", "lstm"} {
		t.Run(fixture, func(t *testing.T) {
			m, f := kerasTrained(t, fixture)
			s := newScorer(t, modeltest.ExportProto(t, m, export.Options{}), nil, score.Options{})
			rows := make([][]int32, f.Rows)
			for r := range rows {
				rows[r] = f.X[r*f.Seq : (r+1)*f.Seq]
			}
			res, err := s.ClassifyIDs(context.Background(), rows)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := s.ScoreIDs(context.Background(), rows)
			if err != nil {
				t.Fatal(err)
			}
			for r, got := range res {
				p := f.Predictions[r]
				if math.Abs(float64(got.Probs[1])-p) > 1e-5 || math.Abs(float64(got.Probs[0])-(1-p)) > 1e-5 || got.Probs[1] != ps[r] {
					t.Errorf("row %d: probabilities %v, Keras p = %v, Score %v", r, got.Probs, p, ps[r])
				}
				want, label := 0, model.LabelNegative
				if p > 0.5 {
					want, label = 1, model.LabelPositive
				}
				if got.Class != want || s.Label(got.Class, 2) != label {
					t.Errorf("row %d: class %d (%s), want %d (%s) for p = %v", r, got.Class, s.Label(got.Class, 2), want, label, p)
				}
			}
		})
	}
}

// TestBadLabelsMetadata: birnn.labels that is not a JSON array of names
// is an error naming the key, from the exporter and from the scorer.
func TestBadLabelsMetadata(t *testing.T) {
	m, _ := kerasTrained(t, "lstm")
	if _, err := export.Model(m, export.Options{Labels: `{"a":1}`}); !errors.Is(err, export.ErrOptions) {
		t.Errorf("export with labels {\"a\":1}: %v, want ErrOptions", err)
	}
	mp := modeltest.ExportProto(t, m, export.Options{})
	for _, kv := range mp.GetMetadataProps() {
		if kv.GetKey() == model.MetaConfig {
			kv.Key, kv.Value = strPtr(model.MetaLabels), strPtr("not json")
		}
	}
	if _, err := score.New(load(t, mp), nil, score.Options{}); err == nil || !strings.Contains(err.Error(), model.MetaLabels) {
		t.Errorf("score.New with birnn.labels = \"not json\": %v, want an error naming %s", err, model.MetaLabels)
	}
}

func strPtr(s string) *string { return &s }
