package infer

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/internal/testutil"
	"github.com/birnn/birnn/onnx"
)

// ortLibPath finds ONNX Runtime's shared library (testutil.ORTLibrary).
func ortLibPath(t testing.TB) string {
	t.Helper()
	return testutil.ORTLibrary(t)
}

var ortOnce struct {
	sync.Once
	err error
}

// ortInit loads ONNX Runtime once per test binary.
func ortInit(t testing.TB) {
	t.Helper()
	lib := ortLibPath(t)
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		ortOnce.err = ort.InitializeEnvironment(ort.WithLogLevelError())
	})
	if ortOnce.err != nil {
		t.Fatalf("initialise ONNX Runtime from %s: %v", lib, ortOnce.err)
	}
}

// ortSession is an ONNX Runtime session on an in-memory model.
type ortSession struct {
	s        *ort.DynamicAdvancedSession
	in, outs []string
}

// newORTSession opens m in ONNX Runtime with the given intra-op threads
// (0 = ORT's default); it is closed when the test ends.
func newORTSession(t testing.TB, m *onnx.ModelProto, threads int) *ortSession {
	t.Helper()
	ortInit(t)
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var in, outs []string
	for _, v := range m.GetGraph().GetInput() {
		in = append(in, v.GetName())
	}
	for _, v := range m.GetGraph().GetOutput() {
		outs = append(outs, v.GetName())
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			t.Fatal(err)
		}
		if err := opts.SetInterOpNumThreads(1); err != nil {
			t.Fatal(err)
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(b, in, outs, opts)
	if err != nil {
		t.Fatalf("ONNX Runtime rejects the model: %v", err)
	}
	t.Cleanup(func() { s.Destroy() })
	return &ortSession{s: s, in: in, outs: outs}
}

func toORT(t *Tensor) (ort.Value, error) {
	shape := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int64(d)
	}
	switch d := t.Data.(type) {
	case []float32:
		return ortValue(shape, d)
	case []float64:
		return ortValue(shape, d)
	case []int8:
		return ortValue(shape, d)
	case []int16:
		return ortValue(shape, d)
	case []int32:
		return ortValue(shape, d)
	case []int64:
		return ortValue(shape, d)
	case []uint8:
		return ortValue(shape, d)
	case []uint16:
		return ortValue(shape, d)
	case []uint32:
		return ortValue(shape, d)
	case []uint64:
		return ortValue(shape, d)
	case []bool:
		return ortValue(shape, d)
	case []onnx.Float16:
		return ort.NewCustomDataTensor(ort.NewShape(shape...), onnx.EncodeRaw(d), ort.TensorElementDataTypeFloat16)
	case []onnx.BFloat16:
		return ort.NewCustomDataTensor(ort.NewShape(shape...), onnx.EncodeRaw(d), ort.TensorElementDataTypeBFloat16)
	}
	return nil, fmt.Errorf("no ONNX Runtime conversion for %s", t)
}

// ortValue is d in ONNX Runtime: a scalar when shape is empty, else a
// tensor of that shape.
func ortValue[T ort.TensorData](shape []int64, d []T) (ort.Value, error) {
	if len(shape) == 0 {
		return ort.NewScalar(d[0])
	}
	return ort.NewTensor(ort.NewShape(shape...), d)
}

func fromORT(v ort.Value) (*Tensor, error) {
	shape := make([]int, len(v.GetShape()))
	for i, d := range v.GetShape() {
		shape[i] = int(d)
	}
	switch tv := v.(type) {
	case *ort.Tensor[float32]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[float64]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[int8]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[int16]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[int32]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[int64]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[uint8]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[uint16]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[uint32]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[uint64]:
		return New(shape, slices.Clone(tv.GetData())), nil
	case *ort.Tensor[bool]:
		return New(shape, slices.Clone(tv.GetData())), nil
	}
	return nil, fmt.Errorf("unexpected ONNX Runtime output %T", v)
}

// run feeds the graph inputs in order and returns the graph outputs in order.
func (o *ortSession) run(inputs []*Tensor) ([]*Tensor, error) {
	ins := make([]ort.Value, len(inputs))
	defer func() {
		for _, v := range ins {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, t := range inputs {
		v, err := toORT(t)
		if err != nil {
			return nil, err
		}
		ins[i] = v
	}
	outs := make([]ort.Value, len(o.outs))
	if err := o.s.Run(ins, outs); err != nil {
		return nil, err
	}
	res := make([]*Tensor, len(outs))
	for i, v := range outs {
		t, err := fromORT(v)
		v.Destroy()
		if err != nil {
			return nil, err
		}
		res[i] = t
	}
	return res, nil
}
