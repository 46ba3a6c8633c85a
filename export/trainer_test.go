package export_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnximport"
	"github.com/birnn/birnn/train"
)

// TestTrainerForwardMatchesInfer compares the trainer's forward pass
// (through train.Evaluate) with birnn's engine on the export (≤ 1e-6) and
// with ONNX Runtime (≤ 1e-5), on the study architectures and softmax heads;
// the trainer must give exactly the same values on the imported export.
func TestTrainerForwardMatchesInfer(t *testing.T) {
	for i, a := range modeltest.Architectures(t) {
		switch a.Name {
		case "deep_lstm", "bilstm", "deep_bilstm", "bi_ave_seq", "bilstm_softmax", "mixed_softmax",
			"gru_stack", "rnn_softmax4", "mixed_recurrent", "masked_gru_avgpool", "masked_rnn_gru_maxpool",
			"masked_birnn_softmax", "masked_bilstm_lstm", "masked_lstm16_avgpool", "lstm_maxpool":
		default:
			continue
		}
		random := modeltest.RandomModel(t, a.Cfg, uint64(i+1))
		for _, variant := range []string{"random", "trained"} {
			t.Run(a.Name+"/"+variant, func(t *testing.T) {
				m := random
				if variant == "trained" {
					m = trainedModel(t, random)
				}
				trainerParity(t, m, i)
			})
		}
	}
}

// trainedModel is m after two epochs of birnn's trainer on a small
// synthetic task (the label says whether id 7 occurs in the row), so the
// parity checks also see weights shaped by training, not only by the
// initializers.
func trainedModel(t *testing.T, m *model.Model) *model.Model {
	t.Helper()
	m = m.Clone()
	const rows, seq = 96, 12
	rng := rand.New(rand.NewPCG(5, 6))
	ids := modeltest.RandomIDs(rng, rows, seq, m.Config.Data.NumWords)
	y := make([]int32, rows)
	for r := range rows {
		if r%2 == 0 {
			ids[r*seq+rng.IntN(seq)] = 7
		}
		for _, v := range ids[r*seq : (r+1)*seq] {
			if v == 7 {
				y[r] = 1
			}
		}
	}
	cfg := *m.Config
	cfg.Train.BatchSize = 16
	m.Config = &cfg
	before := append([]float32(nil), m.Params[len(m.Params)-1].Data...)
	d := train.Data{X: dataset.Matrix{Rows: rows, Cols: seq, Data: ids}, Y: y}
	if _, err := train.Fit(context.Background(), m, d, train.FitOptions{Epochs: 2}); err != nil {
		t.Fatalf("train.Fit: %v", err)
	}
	changed := false
	for k, v := range m.Params[len(m.Params)-1].Data {
		changed = changed || v != before[k]
	}
	if !changed {
		t.Fatal("two epochs of training left the head's weights unchanged")
	}
	return m
}

// trainerParity checks m's trainer forward pass against birnn's engine on
// its export (≤ 1e-6), ONNX Runtime (≤ 1e-5) and the trainer on the
// imported export (exactly).
func trainerParity(t *testing.T, m *model.Model, i int) {
	t.Helper()
	{
		{
			layers := modeltest.Layers(t, m)
			units := layers[len(layers)-1].Units
			mp := modeltest.ExportProto(t, m, export.Options{})
			s, err := infer.LoadModel(mp)
			if err != nil {
				t.Fatal(err)
			}
			b := modeltest.Export(t, m, export.Options{})
			m2, err := onnximport.Import(modeltest.Decode(t, b))
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			rng := rand.New(rand.NewPCG(uint64(i), 17))
			for _, bs := range [][2]int{{3, 1}, {4, 23}, {3, 100}} {
				batch, seq := bs[0], bs[1]
				ids := modeltest.PostPad(m, modeltest.RandomIDs(rng, batch, seq, m.Config.Data.NumWords), batch, seq)
				want := modeltest.TrainerProbs(t, m, ids, batch, seq)
				for r, p := range modeltest.TrainerProbs(t, m2, ids, batch, seq) {
					if p != want[r] {
						t.Errorf("row %d: the trainer gives %v on the imported model, %v on the original", r, p, want[r])
					}
				}
				out, err := s.Run(context.Background(), map[string]*infer.Tensor{export.InputName: infer.NewInt32([]int{batch, seq}, ids)})
				if err != nil {
					t.Fatal(err)
				}
				eng := out[export.OutputName].Float32s()
				ort := modeltest.ORTRun(t, b, ids, batch, seq, false)
				var dInfer, dORT float64
				for r := range batch {
					p := min(units-1, 1) // TrainerProbs gives P(class 1): the only or the second column
					dInfer = math.Max(dInfer, math.Abs(float64(eng[r*units+p])-want[r]))
					dORT = math.Max(dORT, math.Abs(float64(ort[r*units+p])-want[r]))
				}
				if dInfer > 1e-6 {
					t.Errorf("batch %d seq %d: max |infer − trainer| = %.3g > 1e-6", batch, seq, dInfer)
				}
				if dORT > 1e-5 {
					t.Errorf("batch %d seq %d: max |ORT − trainer| = %.3g > 1e-5", batch, seq, dORT)
				}
			}
		}
	}
}
