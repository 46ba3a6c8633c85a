// Package conformance runs the ONNX backend node tests
// (https://github.com/onnx/onnx/tree/main/onnx/backend/test/data/node)
// against the inference engine: each test is a folder with model.onnx and
// test_data_set_*/{input,output}_N.pb (serialized TensorProto).
//
//	folder ─Tests→ test dirs ─Run→ infer.Load, feed inputs in order,
//	        compare outputs (Atol, Rtol) → pass | failure | unsupported
//
// A test is unsupported, not failed, when the engine refuses it by design
// or lacks what it needs: errors matching infer.ErrUnsupported (an
// operator or type it does not implement, a training-mode Dropout or
// BatchNormalization).
//
// ONNX 1.12's test data stores BFLOAT16 tensors as UINT16 bit patterns
// (numpy has no bfloat16); Run reinterprets them where the model declares
// BFLOAT16. A few of its tests are broken (BrokenData): RunAll reports them
// apart, matched by content so that corrected copies run as usual.
package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/onnx"
)

// Tolerances of the ONNX backend test runner.
const (
	Rtol = 1e-3
	Atol = 1e-7
)

// IsTest reports whether dir is an ONNX backend test folder: it holds
// model.onnx and at least one test_data_set_* folder.
func IsTest(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		return false
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	return len(sets) > 0
}

// Tests expands dir into the backend test folders it names: dir itself if
// it is one, else its immediate subfolders that are, sorted.
func Tests(dir string) ([]string, error) {
	if IsTest(dir) {
		return []string{dir}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	var out []string
	for _, e := range entries {
		if p := filepath.Join(dir, e.Name()); e.IsDir() && IsTest(p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("conformance: %s holds no ONNX backend tests (model.onnx + test_data_set_*)", dir)
	}
	sort.Strings(out)
	return out, nil
}

// Run runs one test folder: it loads the model, feeds each data set's
// inputs to the graph inputs in order and compares every output with the
// expected one (same dtype and shape; floats within
// |got−want| ≤ Atol + Rtol·|want|, NaN matching NaN; everything else
// exactly). ctx is checked between nodes.
//
// It returns nil when the test passes, an error matching
// infer.ErrUnsupported when the model needs what the engine lacks or
// refuses, and any other error for a failure.
func Run(ctx context.Context, dir string) error {
	s, err := infer.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return fmt.Errorf("conformance: %s has no test_data_set_*", dir)
	}
	for _, set := range sets {
		if err := runDataSet(ctx, s, set); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(set), err)
		}
	}
	return nil
}

func readTensors(set, prefix string) ([]*infer.Tensor, error) {
	files, _ := filepath.Glob(filepath.Join(set, prefix+"_*.pb"))
	out := make([]*infer.Tensor, len(files))
	for i := range files {
		tp, err := onnx.ReadTensor(filepath.Join(set, fmt.Sprintf("%s_%d.pb", prefix, i)))
		if err != nil {
			return nil, err
		}
		t, err := infer.FromProto(tp)
		if err != nil {
			var ut *onnx.UnsupportedTypeError
			if errors.As(err, &ut) {
				return nil, &infer.UnsupportedTypeError{Value: fmt.Sprintf("%s_%d", prefix, i), Type: ut.DataType.String()}
			}
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// asBFloat16 reinterprets a UINT16 tensor as the BFLOAT16 bits it holds.
func asBFloat16(t *infer.Tensor) *infer.Tensor {
	if t.DType != infer.Uint16 {
		return t
	}
	u := t.Data.([]uint16)
	b := make([]onnx.BFloat16, len(u))
	for i, v := range u {
		b[i] = onnx.BFloat16(v)
	}
	return infer.New(t.Shape, b)
}

func runDataSet(ctx context.Context, s *infer.Session, set string) error {
	ins, err := readTensors(set, "input")
	if err != nil {
		return err
	}
	wants, err := readTensors(set, "output")
	if err != nil {
		return err
	}
	infos := s.Inputs()
	if len(ins) != len(infos) {
		return fmt.Errorf("%d input files for %d model inputs", len(ins), len(infos))
	}
	feed := make(map[string]*infer.Tensor, len(ins))
	for i, t := range ins {
		if infos[i].DType == infer.BFloat16 {
			t = asBFloat16(t)
		}
		feed[infos[i].Name] = t
	}
	got, err := s.Run(ctx, feed)
	if err != nil {
		return err
	}
	outs := s.Outputs()
	if len(wants) != len(outs) {
		return fmt.Errorf("%d output files for %d model outputs", len(wants), len(outs))
	}
	for i, want := range wants {
		if outs[i].DType == infer.BFloat16 {
			want = asBFloat16(want)
		}
		if err := infer.Compare(got[outs[i].Name], want, Atol, Rtol); err != nil {
			return fmt.Errorf("output %q: %w", outs[i].Name, err)
		}
	}
	return nil
}

// Status is the outcome of one test.
type Status int

// Outcomes.
const (
	Passed Status = iota
	Failed
	Unsupported
	Broken // the test's data contradicts the ONNX specification
)

func (s Status) String() string {
	switch s {
	case Passed:
		return "PASS"
	case Failed:
		return "FAIL"
	case Broken:
		return "BROKEN"
	}
	return "UNSUPPORTED"
}

// BrokenData lists backend tests whose data contradicts the ONNX
// specification, by name, with the SHA-256 of their model.onnx and
// test_data_set_0/*.pb (in name order) and the reason. ONNX Runtime fails
// them the same way; later ONNX releases regenerated them.
var BrokenData = map[string]struct{ SHA256, Why string }{
	"test_cast_FLOAT_to_BFLOAT16": {"6998aab720d5cda2f54edce4144104cd175864fcec5a6d4623de17cc95d44483",
		"its expected values truncate to BFLOAT16; Cast rounds to nearest even, as ONNX Runtime 1.30 does (it fails this test the same way)"},
	"test_castlike_FLOAT_to_BFLOAT16": {"4a4de17c6580b2f5d2029cafe2d38410414eb85c66b61333262f6f047e7b4e3e",
		"input like is [1] but the model declares [3 4]; ONNX Runtime refuses it too"},
	"test_castlike_FLOAT_to_BFLOAT16_expanded": {"640b05688008e1a9dec4f43411341534f5d9e2e99be2cb281f6e0051640c1c1b",
		"input like is [1] but the model declares [3 4]; ONNX Runtime refuses it too"},
	"test_castlike_BFLOAT16_to_FLOAT": {"40dc5c517a076791d36058bddb868dfedcbda7f903fb685d036b76d021a32e39",
		"input like is [1] but the model declares [3 4]; ONNX Runtime refuses it too"},
	"test_castlike_BFLOAT16_to_FLOAT_expanded": {"693160aaf1c4a1284a1a0532e01aa8841295518c1847acf727c87449f75bcd51",
		"input like is [1] but the model declares [3 4]; ONNX Runtime refuses it too"},
}

// brokenReason is why the test in dir is in BrokenData, or "" when it is
// not (or its content differs from the broken copy).
func brokenReason(dir string) string {
	b, ok := BrokenData[filepath.Base(dir)]
	if !ok {
		return ""
	}
	files, _ := filepath.Glob(filepath.Join(dir, "test_data_set_0", "*.pb"))
	sort.Strings(files)
	h := sha256.New()
	for _, f := range append([]string{filepath.Join(dir, "model.onnx")}, files...) {
		r, err := os.Open(f)
		if err != nil {
			return ""
		}
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return ""
		}
	}
	if hex.EncodeToString(h.Sum(nil)) != b.SHA256 {
		return ""
	}
	return b.Why
}

// Result is one test's outcome; Reason says why a test is unsupported or
// failed.
type Result struct {
	Name   string // the test folder's base name
	Dir    string
	Status Status
	Reason string
	Err    error
}

// Classify turns Run's error into a status and a reason: "op And (opset
// 7)", "type STRING of x", or the error's text.
func Classify(err error) (Status, string) {
	if err == nil {
		return Passed, ""
	}
	var ue *infer.UnsupportedOpError
	var te *infer.UnsupportedTypeError
	switch {
	case errors.As(err, &ue):
		r := fmt.Sprintf("op %s (opset %d)", ue.Op, ue.Opset)
		if ue.Within != "" {
			r += " inside " + ue.Within
		}
		return Unsupported, r
	case errors.As(err, &te):
		return Unsupported, fmt.Sprintf("type %s of %s", te.Type, te.Value)
	case errors.Is(err, infer.ErrUnsupported):
		// The innermost message says what was refused.
		msg := err.Error()
		if i := strings.LastIndex(msg, "infer: unsupported: "); i >= 0 {
			msg = msg[i+len("infer: unsupported: "):]
		}
		if i := strings.LastIndex(msg, " ("); i >= 0 && strings.HasSuffix(msg, "model.onnx)") {
			msg = msg[:i] // the model's path, which Load appends
		}
		return Unsupported, msg
	}
	return Failed, err.Error()
}

// Summary counts outcomes.
type Summary struct {
	Passed, Failed, Unsupported, Broken int
}

// String is "N passed, M failed, K unsupported", then ", B with broken
// test data" when there are such tests.
func (s Summary) String() string {
	out := fmt.Sprintf("%d passed, %d failed, %d unsupported", s.Passed, s.Failed, s.Unsupported)
	if s.Broken > 0 {
		out += fmt.Sprintf(", %d with broken test data", s.Broken)
	}
	return out
}

// RunAll runs every test found in dirs (see Tests), in order, calling each
// with every result, and counts them. Tests in BrokenData are reported as
// Broken without running. Errors: a folder holds no tests, or
// ctx ends.
func RunAll(ctx context.Context, dirs []string, each func(Result)) (Summary, error) {
	var tests []string
	for _, d := range dirs {
		t, err := Tests(d)
		if err != nil {
			return Summary{}, err
		}
		tests = append(tests, t...)
	}
	var sum Summary
	for _, dir := range tests {
		if why := brokenReason(dir); why != "" {
			sum.Broken++
			if each != nil {
				each(Result{Name: filepath.Base(dir), Dir: dir, Status: Broken, Reason: why})
			}
			continue
		}
		err := Run(ctx, dir)
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		st, reason := Classify(err)
		switch st {
		case Passed:
			sum.Passed++
		case Failed:
			sum.Failed++
		default:
			sum.Unsupported++
		}
		if each != nil {
			each(Result{Name: filepath.Base(dir), Dir: dir, Status: st, Reason: reason, Err: err})
		}
	}
	return sum, nil
}
