package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/birnn/birnn/onnx"
)

// Tolerances of the ONNX backend test runner.
const (
	NodeTestRtol = 1e-3
	NodeTestAtol = 1e-7
)

// IsNodeTest reports whether dir is an ONNX backend test folder: it holds
// model.onnx and at least one test_data_set_* folder.
func IsNodeTest(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		return false
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	return len(sets) > 0
}

// NodeTests expands dir into the backend test folders it names: dir itself
// if it is one, else its immediate subfolders that are, sorted.
func NodeTests(dir string) ([]string, error) {
	if IsNodeTest(dir) {
		return []string{dir}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	var out []string
	for _, e := range entries {
		if p := filepath.Join(dir, e.Name()); e.IsDir() && IsNodeTest(p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("infer: %s holds no ONNX backend tests (model.onnx + test_data_set_*)", dir)
	}
	sort.Strings(out)
	return out, nil
}

// RunNodeTest runs one ONNX backend test folder (model.onnx with
// test_data_set_*/input_N.pb and output_N.pb): it loads the model, feeds
// each data set's inputs to the graph inputs in order and compares every
// output with the expected one (same dtype and shape; floats within
// |got−want| ≤ NodeTestAtol + NodeTestRtol·|want|, NaN matching NaN;
// everything else exactly).
//
// It returns nil when the test passes, an error matching ErrUnsupported
// (errors.Is) when the model needs what the engine lacks, and any other
// error for a failure.
func RunNodeTest(dir string) error { return RunNodeTestContext(context.Background(), dir) }

// RunNodeTestContext is RunNodeTest with a context checked between nodes.
func RunNodeTestContext(ctx context.Context, dir string) error {
	s, err := Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		var ut *onnx.UnsupportedTypeError
		if errors.As(err, &ut) {
			return &UnsupportedTypeError{Value: ut.Tensor, Type: ut.DataType.String()}
		}
		return err
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return fmt.Errorf("infer: %s has no test_data_set_*", dir)
	}
	for _, set := range sets {
		if err := runDataSet(ctx, s, set); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(set), err)
		}
	}
	return nil
}

func readTensors(set, prefix string) ([]*Tensor, error) {
	files, _ := filepath.Glob(filepath.Join(set, prefix+"_*.pb"))
	out := make([]*Tensor, len(files))
	for i := range files {
		tp, err := onnx.ReadTensor(filepath.Join(set, fmt.Sprintf("%s_%d.pb", prefix, i)))
		if err != nil {
			return nil, err
		}
		t, err := FromProto(tp)
		if err != nil {
			var ut *onnx.UnsupportedTypeError
			if errors.As(err, &ut) {
				return nil, &UnsupportedTypeError{Value: fmt.Sprintf("%s_%d", prefix, i), Type: ut.DataType.String()}
			}
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

func runDataSet(ctx context.Context, s *Session, set string) error {
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
	feed := make(map[string]*Tensor, len(ins))
	for i, t := range ins {
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
		if err := Compare(got[outs[i].Name], want, NodeTestAtol, NodeTestRtol); err != nil {
			return fmt.Errorf("output %q: %w", outs[i].Name, err)
		}
	}
	return nil
}

// Compare checks got against want: same dtype, same shape, floating-point
// elements within |got−want| ≤ atol + rtol·|want| (NaN equals NaN, an
// infinity equals itself), other elements exactly. The error names the
// first mismatch.
func Compare(got, want *Tensor, atol, rtol float64) error {
	if got == nil {
		return errors.New("missing")
	}
	if got.DType != want.DType {
		return fmt.Errorf("dtype %s, want %s", got.DType, want.DType)
	}
	if len(got.Shape) != len(want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i := range got.Shape {
		if got.Shape[i] != want.Shape[i] {
			return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
		}
	}
	switch w := want.Data.(type) {
	case []float32:
		g := got.Float32s()
		for i := range w {
			if !close64(float64(g[i]), float64(w[i]), atol, rtol) {
				return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
			}
		}
		return nil
	case []float64:
		g := got.Float64s()
		for i := range w {
			if !close64(g[i], w[i], atol, rtol) {
				return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
			}
		}
		return nil
	}
	return compareExact(got, want)
}

func close64(g, w, atol, rtol float64) bool {
	if math.IsNaN(w) {
		return math.IsNaN(g)
	}
	if math.IsInf(w, 0) {
		return g == w
	}
	return math.Abs(g-w) <= atol+rtol*math.Abs(w)
}

func compareExact(got, want *Tensor) error {
	switch w := want.Data.(type) {
	case []int8:
		return exact(got.Data.([]int8), w)
	case []int16:
		return exact(got.Data.([]int16), w)
	case []int32:
		return exact(got.Data.([]int32), w)
	case []int64:
		return exact(got.Data.([]int64), w)
	case []uint8:
		return exact(got.Data.([]uint8), w)
	case []uint16:
		return exact(got.Data.([]uint16), w)
	case []uint32:
		return exact(got.Data.([]uint32), w)
	case []uint64:
		return exact(got.Data.([]uint64), w)
	case []bool:
		return exact(got.Data.([]bool), w)
	}
	return fmt.Errorf("cannot compare %s", want.DType)
}

func exact[T comparable](g, w []T) error {
	for i := range w {
		if g[i] != w[i] {
			return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
		}
	}
	return nil
}
