package plot

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/model"
)

// studyHistory is shaped like the study's deep-BiLSTM run (4 epochs).
func studyHistory() *model.History {
	return &model.History{
		Loss:        []float64{0.4784, 0.3031, 0.2608, 0.2204},
		Accuracy:    []float64{0.7574, 0.8726, 0.8967, 0.9151},
		ValLoss:     []float64{0.3712, 0.3390, 0.3356, 0.3699},
		ValAccuracy: []float64{0.8389, 0.8572, 0.8577, 0.8473},
		Seconds:     []float64{86, 85, 84, 85},
	}
}

// decodePNG checks path is a PNG of the figure's size with more than a
// blank page in it, and returns the image.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG", path)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if got := img.Bounds().Size(); got != (image.Point{1000, 900}) {
		t.Errorf("image %v, want 1000×900", got)
	}
	if len(b) < 10_000 || len(b) > 2_000_000 {
		t.Errorf("PNG is %d bytes", len(b))
	}
	return img
}

// colourPixels counts pixels close to c: the curves are drawn in it.
func colourPixels(img image.Image, c [3]uint8) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if absDiff(r>>8, c[0]) < 24 && absDiff(g>>8, c[1]) < 24 && absDiff(b>>8, c[2]) < 24 {
				n++
			}
		}
	}
	return n
}

func absDiff(a uint32, b uint8) uint32 {
	if a > uint32(b) {
		return a - uint32(b)
	}
	return uint32(b) - a
}

var (
	blue   = [3]uint8{0x1f, 0x77, 0xb4}
	orange = [3]uint8{0xff, 0x7f, 0x0e}
	green  = [3]uint8{0x2c, 0xa0, 0x2c}
)

func TestCurves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curves.png")
	if err := Curves(studyHistory(), "deep_bilstm", path); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	// Two curves (train blue, validation orange) in each of two panels.
	if n := colourPixels(img, blue); n < 1000 {
		t.Errorf("%d train-coloured pixels", n)
	}
	if n := colourPixels(img, orange); n < 1000 {
		t.Errorf("%d validation-coloured pixels", n)
	}
	if n := colourPixels(img, green); n > 0 {
		t.Errorf("%d pixels of a third colour", n)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files, want only the PNG", len(entries))
	}
}

func TestCurvesWithoutValidationOrTitle(t *testing.T) {
	h := studyHistory()
	h.ValLoss, h.ValAccuracy = nil, nil
	path := filepath.Join(t.TempDir(), "c.png")
	if err := Curves(h, "", path); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	if n := colourPixels(img, orange); n > 0 {
		t.Errorf("%d validation-coloured pixels with no validation data", n)
	}
	// One epoch is a single point per curve, not an error.
	one := &model.History{Loss: []float64{0.5}, Accuracy: []float64{0.7}}
	if err := Curves(one, "one epoch", path); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, path)
}

func TestCompare(t *testing.T) {
	a, b, c := studyHistory(), studyHistory(), studyHistory()
	for i := range b.ValAccuracy {
		b.ValAccuracy[i] += 0.01
		b.Accuracy[i] -= 0.02
		c.Loss[i] += 0.03
		c.ValLoss[i] += 0.02
	}
	c.Loss, c.Accuracy, c.ValLoss, c.ValAccuracy, c.Seconds = c.Loss[:3], c.Accuracy[:3], c.ValLoss[:3], c.ValAccuracy[:3], nil
	runs := []Series{{"Adam simple", a}, {"RMSProp dropout 0.2", b}, {"Adam dropout 0.2", c}}
	for _, metric := range []string{"", "val", MetricValidation, MetricTrain} {
		path := filepath.Join(t.TempDir(), "cmp.png")
		if err := Compare(runs, metric, path); err != nil {
			t.Fatalf("metric %q: %v", metric, err)
		}
		img := decodePNG(t, path)
		for _, col := range [][3]uint8{blue, orange, green} {
			if n := colourPixels(img, col); n < 500 {
				t.Errorf("metric %q: %d pixels of colour %v", metric, n, col)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.png")
	good := studyHistory()
	noVal := studyHistory()
	noVal.ValLoss, noVal.ValAccuracy = nil, nil
	short := studyHistory()
	short.ValLoss = short.ValLoss[:2]
	nan := studyHistory()
	nan.Loss[2] = math.NaN()
	tests := []struct {
		name string
		run  func() error
		want error
		msg  string
	}{
		{"nil history", func() error { return Curves(nil, "", out) }, ErrEmpty, "empty"},
		{"empty history", func() error { return Curves(&model.History{}, "", out) }, ErrEmpty, "empty"},
		{"mismatched lengths", func() error { return Curves(short, "", out) }, model.ErrHistory, "val_loss"},
		{"NaN", func() error { return Curves(nan, "", out) }, ErrInput, "epoch 3"},
		{"unwritable", func() error { return Curves(good, "", filepath.Join(dir, "no", "x.png")) }, os.ErrNotExist, "no"},
		{"no runs", func() error { return Compare(nil, "", out) }, ErrEmpty, "no runs"},
		{"empty run", func() error { return Compare([]Series{{"a", good}, {"b", &model.History{}}}, "", out) }, ErrEmpty, `"b"`},
		{"nil run", func() error { return Compare([]Series{{"a", nil}}, "", out) }, ErrEmpty, `"a"`},
		{"no validation", func() error { return Compare([]Series{{"a", good}, {"", noVal}}, "val", out) }, ErrInput, `"run 2"`},
		{"bad metric", func() error { return Compare([]Series{{"a", good}}, "f1", out) }, ErrMetric, `"f1"`},
		{"mismatched run", func() error { return Compare([]Series{{"a", short}}, "train", out) }, model.ErrHistory, `"a"`},
	}
	for _, tc := range tests {
		err := tc.run()
		if !errors.Is(err, tc.want) || !strings.Contains(fmtErr(err), tc.msg) {
			t.Errorf("%s: %v, want %v mentioning %s", tc.name, err, tc.want, tc.msg)
		}
		if _, serr := os.Stat(out); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("%s: a file was written", tc.name)
		}
	}
	// Train comparison needs no validation data.
	if err := Compare([]Series{{"a", noVal}}, MetricTrain, out); err != nil {
		t.Error(err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestTicks(t *testing.T) {
	var labels []string
	for _, tk := range (valueTicks{}).Ticks(0.2, 0.5) {
		labels = append(labels, tk.Label)
	}
	// (0.5−0.2)/8 = 0.0375 rounds up to a step of 0.05.
	if got := strings.Join(labels, " "); got != "0.20 0.25 0.30 0.35 0.40 0.45 0.50" {
		t.Errorf("value ticks %q", got)
	}
	labels = labels[:0]
	for _, tk := range (epochTicks{}).Ticks(0.91, 4.09) {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "1 2 3 4" {
		t.Errorf("epoch ticks %q", got)
	}
}
