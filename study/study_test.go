package study

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/internal/modeltest"
	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/train"
)

// TestReport builds report.md from fabricated finished runs: rows beside
// the study's values, "not run" for the rest, and the comparison figure
// once the three deep-BiLSTM runs are present.
func TestReport(t *testing.T) {
	out := t.TempDir()
	h := &model.History{Loss: []float64{0.5, 0.3}, Accuracy: []float64{0.7, 0.9},
		ValLoss: []float64{0.4, 0.35}, ValAccuracy: []float64{0.8, 0.85}, Seconds: []float64{30, 50}}
	finish := func(run string, acc float64) {
		dir := filepath.Join(out, run)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := h.Write(filepath.Join(dir, model.HistoryFile)); err != nil {
			t.Fatal(err)
		}
		if err := model.WriteMetrics(filepath.Join(dir, model.MetricsFile), model.Metrics{Loss: 0.36, Accuracy: acc, Split: "test", N: 25000}); err != nil {
			t.Fatal(err)
		}
	}
	for _, run := range []string{"deep_lstm", "deep_bilstm", "deep_bilstm_rmsprop_dropout"} {
		finish(run, 0.8448)
	}
	if err := WriteReport(out, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, ReportFile))
	r := string(b)
	for _, want := range []string{
		"| deep_lstm | 2 | 0.8448 | 0.8348 | +1.00 pt | 0.3600 | 0.3869 | 40 | 39 |",
		"| bilstm | – | not run | 0.8414 |",
		"| deep_bilstm_adam_dropout | – | not run |",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, CompareFile) {
		t.Error("comparison figure linked with only two of the three deep-BiLSTM runs")
	}
	finish("deep_bilstm_adam_dropout", 0.83)
	if err := WriteReport(out, nil); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(out, ReportFile))
	if !strings.Contains(string(b), "![comparison of the deep-BiLSTM runs](compare.png)") {
		t.Errorf("no comparison figure:\n%s", b)
	}
	if fi, err := os.Stat(filepath.Join(out, CompareFile)); err != nil || fi.Size() == 0 {
		t.Errorf("compare.png: %v", err)
	}
}

// TestReferences pins the study's numbers (its notebook, model.evaluate on
// the test split) and that callers cannot change them.
func TestReferences(t *testing.T) {
	r := References()
	if len(r) != len(configs.Runs()) || r["deep_bilstm_rmsprop_dropout"].Accuracy != 0.8500 || r["bilstm"].Loss != 0.3747 {
		t.Fatalf("References() = %v", r)
	}
	r["bilstm"] = Reference{}
	if References()["bilstm"].Accuracy != 0.8414 {
		t.Error("References shares its map with callers")
	}
}

// tiny is the pipeline on a fabricated IMDB folder with a two-unit model
// under each run's name, so a whole reproduction takes a second.
type tiny struct {
	data, keras, out string
	epochs           int
}

func newTiny(t *testing.T) *tiny {
	texts := []string{"a good movie", "bad bad movie", "good good", "movie", "bad", "good bad movie", "a movie"}
	data := testutil.TinyIMDB(t, t.TempDir(), `{"good": 1, "bad": 2, "movie": 3, "a": 4}`, texts, texts[:4])
	return &tiny{data: data, keras: t.TempDir(), out: filepath.Join(t.TempDir(), "runs"), epochs: 2}
}

func (ty *tiny) options(progress *strings.Builder, force bool, runs ...string) Options {
	return Options{
		Runs: runs, Out: ty.out, DataDir: ty.data, Keras: ty.keras, Force: force, Progress: progress, Version: "test",
		Config: func(name string) (*configs.Config, error) {
			return configs.Parse([]byte(fmt.Sprintf("name: %s\ndescription: tiny %s\ndata: {num_words: 8, maxlen: 5}\n"+
				"model:\n  embedding: {dim: 3}\n  layers:\n    - {type: lstm, units: 2}\n    - {type: dense, units: 1, activation: sigmoid}\n"+
				"train: {batch_size: 4, epochs: %d, validation_split: 0.25}\n", name, name, ty.epochs)))
		},
	}
}

// modTime is the modification time of path; the zero time if it is missing.
func modTime(path string) time.Time {
	if st, err := os.Stat(path); err == nil {
		return st.ModTime()
	}
	return time.Time{}
}

// TestReproduceSkipsDoneRuns runs the pipeline twice: the second time the
// run is done (metrics.json exists) and is neither trained nor exported
// again, and the report is written anew.
func TestReproduceSkipsDoneRuns(t *testing.T) {
	ty := newTiny(t)
	var log strings.Builder
	res, err := Reproduce(context.Background(), ty.options(&log, false, "bilstm"))
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if fmt.Sprint(res.Trained, res.Skipped) != "[bilstm] []" {
		t.Fatalf("first pass trained %v, skipped %v", res.Trained, res.Skipped)
	}
	dir := filepath.Join(ty.out, "bilstm")
	for _, f := range []string{model.CheckpointFile, model.HistoryFile, model.MetricsFile, model.ModelFile, CurvesFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	report, err := os.ReadFile(filepath.Join(ty.out, ReportFile))
	if err != nil || !strings.Contains(string(report), "| bilstm | 2 |") || !strings.Contains(string(report), "| deep_lstm | – | not run |") {
		t.Fatalf("report (%v):\n%s", err, report)
	}
	before := map[string]time.Time{}
	for _, f := range []string{model.CheckpointFile, model.MetricsFile, model.ModelFile} {
		before[f] = modTime(filepath.Join(dir, f))
	}
	log.Reset()
	res, err = Reproduce(context.Background(), ty.options(&log, false, "bilstm"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Trained, res.Skipped) != "[] [bilstm]" || !strings.Contains(log.String(), "bilstm: done already") {
		t.Errorf("second pass trained %v, skipped %v; log:\n%s", res.Trained, res.Skipped, log.String())
	}
	for f, m := range before {
		if !modTime(filepath.Join(dir, f)).Equal(m) {
			t.Errorf("%s rewritten although the run was done", f)
		}
	}
}

// TestReproduceForce retrains a done run from scratch and re-exports it:
// the checkpoint left in the folder is damaged on purpose (its weights
// perturbed), so a run that resumed from it instead of starting over would
// end with other weights than the first pass.
func TestReproduceForce(t *testing.T) {
	ty := newTiny(t)
	if _, err := Reproduce(context.Background(), ty.options(&strings.Builder{}, false, "deep_lstm")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(ty.out, "deep_lstm")
	ckPath := filepath.Join(dir, model.CheckpointFile)
	first, err := model.LoadCheckpoint(ckPath)
	if err != nil {
		t.Fatal(err)
	}
	marked := *first
	marked.Model = first.Model.Clone()
	for _, p := range marked.Model.Params {
		for i := range p.Data {
			p.Data[i] += 0.5
		}
	}
	if err := model.SaveCheckpoint(ckPath, &marked); err != nil {
		t.Fatal(err)
	}
	onnxBefore := modTime(filepath.Join(dir, model.ModelFile))
	var log strings.Builder
	time.Sleep(10 * time.Millisecond) // distinct modification times
	res, err := Reproduce(context.Background(), ty.options(&log, true, "deep_lstm"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Trained) != "[deep_lstm]" || strings.Contains(log.String(), "done already") {
		t.Errorf("--force trained %v; log:\n%s", res.Trained, log.String())
	}
	again, err := model.LoadCheckpoint(ckPath)
	if err != nil {
		t.Fatal(err)
	}
	modeltest.SameParams(t, again.Model, first.Model)
	if !modTime(filepath.Join(dir, model.ModelFile)).After(onnxBefore) {
		t.Error("--force did not re-export model.onnx")
	}
}

// TestReproduceResumes interrupts a run after its first epoch (checkpoint
// and history written, no metrics.json) and runs the pipeline: it resumes
// from the checkpoint and ends with the same weights as an uninterrupted
// run, bit for bit.
func TestReproduceResumes(t *testing.T) {
	ty := newTiny(t)
	cfg, err := ty.options(nil, false).Config("deep_bilstm")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(ty.out, "deep_bilstm")
	if _, err := train.Run(context.Background(), cfg, train.RunOptions{Data: dataset.IMDB{Dir: ty.data}, OutDir: dir, Epochs: 1}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, model.MetricsFile)); err != nil { // as if stopped before the end
		t.Fatal(err)
	}
	epoch1, err := model.ReadHistory(filepath.Join(dir, model.HistoryFile))
	if err != nil || epoch1.Epochs() != 1 {
		t.Fatalf("interrupted run: %v, %v", epoch1, err)
	}
	var log strings.Builder
	res, err := Reproduce(context.Background(), ty.options(&log, false, "deep_bilstm"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Trained) != "[deep_bilstm]" {
		t.Fatalf("trained %v", res.Trained)
	}
	// Only the second epoch runs: the first comes from the checkpoint.
	if strings.Contains(log.String(), "Epoch 1/2") || !strings.Contains(log.String(), "Epoch 2/2") {
		t.Errorf("the run did not resume at epoch 2; log:\n%s", log.String())
	}
	resumed, err := model.LoadCheckpoint(filepath.Join(dir, model.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Epoch != 2 || resumed.History.Loss[0] != epoch1.Loss[0] {
		t.Errorf("resumed checkpoint at epoch %d, first-epoch loss %v; want epoch 2 keeping the first epoch (%v)",
			resumed.Epoch, resumed.History.Loss, epoch1.Loss)
	}
	whole := filepath.Join(t.TempDir(), "whole")
	if _, err := train.Run(context.Background(), cfg, train.RunOptions{Data: dataset.IMDB{Dir: ty.data}, OutDir: whole}); err != nil {
		t.Fatal(err)
	}
	straight, err := model.LoadCheckpoint(filepath.Join(whole, model.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	modeltest.SameParams(t, resumed.Model, straight.Model)
}

func TestReproduceUnknownRun(t *testing.T) {
	if _, err := Reproduce(context.Background(), Options{Runs: []string{"deep_lstm", "nope"}, Out: t.TempDir()}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("err = %v, want one naming the unknown run", err)
	}
}
