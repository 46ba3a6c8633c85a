package onnx

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

func roundTrip[T Element](t *testing.T, dims []int64, data []T) {
	t.Helper()
	tp, err := MakeTensor("t", dims, data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeTensor(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := TensorData(back)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, data) {
		t.Errorf("%T round trip: got %v, want %v", data, got, data)
	}
	if TensorProto_DataType(back.GetDataType()) != DataTypeOf[T]() {
		t.Errorf("%T: data type %v", data, back.GetDataType())
	}
}

func TestTensorRoundTrip(t *testing.T) {
	roundTrip(t, []int64{2, 2}, []float32{1, -2.5, float32(math.Inf(1)), 3e-38})
	roundTrip(t, []int64{2}, []float64{math.Pi, -1e300})
	roundTrip(t, []int64{3}, []int8{-128, 0, 127})
	roundTrip(t, []int64{3}, []int16{-32768, 1, 32767})
	roundTrip(t, []int64{2}, []int32{math.MinInt32, math.MaxInt32})
	roundTrip(t, []int64{2}, []int64{math.MinInt64, math.MaxInt64})
	roundTrip(t, []int64{2}, []uint8{0, 255})
	roundTrip(t, []int64{2}, []uint16{0, 65535})
	roundTrip(t, []int64{2}, []uint32{0, math.MaxUint32})
	roundTrip(t, []int64{2}, []uint64{0, math.MaxUint64})
	roundTrip(t, []int64{3}, []bool{true, false, true})
	roundTrip(t, []int64{1}, []Float16{0x3c00})
	roundTrip(t, nil, []float32{7}) // scalar
	roundTrip(t, []int64{0, 3}, []float32{})
}

// raw_data is little-endian whatever the host: bytes written by hand.
func TestRawDataLittleEndian(t *testing.T) {
	cases := []struct {
		dt   TensorProto_DataType
		raw  []byte
		want any
	}{
		{TensorProto_FLOAT, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, []float32{1, -2}},
		{TensorProto_INT64, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []int64{-2}},
		{TensorProto_INT32, []byte{1, 2, 0, 0}, []int32{0x201}},
		{TensorProto_UINT16, []byte{0x34, 0x12}, []uint16{0x1234}},
		{TensorProto_DOUBLE, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, []float64{1}},
		{TensorProto_BOOL, []byte{0, 1, 2}, []bool{false, true, true}},
		{TensorProto_INT8, []byte{0xff}, []int8{-1}},
	}
	for _, tc := range cases {
		n := int64(reflect.ValueOf(tc.want).Len())
		tp := &TensorProto{DataType: proto.Int32(int32(tc.dt)), Dims: []int64{n}, RawData: tc.raw}
		got, err := TensorData(tp)
		if err != nil {
			t.Errorf("%v: %v", tc.dt, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.dt, got, tc.want)
		}
	}
}

// The typed fields: int32_data also carries the small integer types, bool
// and float16; uint64_data carries uint32.
func TestTypedFields(t *testing.T) {
	cases := []struct {
		tp   *TensorProto
		want any
	}{
		{&TensorProto{DataType: proto.Int32(1), Dims: []int64{2}, FloatData: []float32{1.5, -1}}, []float32{1.5, -1}},
		{&TensorProto{DataType: proto.Int32(11), Dims: []int64{1}, DoubleData: []float64{2.25}}, []float64{2.25}},
		{&TensorProto{DataType: proto.Int32(7), Dims: []int64{2}, Int64Data: []int64{-3, 4}}, []int64{-3, 4}},
		{&TensorProto{DataType: proto.Int32(6), Dims: []int64{1}, Int32Data: []int32{-9}}, []int32{-9}},
		{&TensorProto{DataType: proto.Int32(3), Dims: []int64{2}, Int32Data: []int32{-128, 127}}, []int8{-128, 127}},
		{&TensorProto{DataType: proto.Int32(5), Dims: []int64{1}, Int32Data: []int32{-300}}, []int16{-300}},
		{&TensorProto{DataType: proto.Int32(2), Dims: []int64{1}, Int32Data: []int32{200}}, []uint8{200}},
		{&TensorProto{DataType: proto.Int32(4), Dims: []int64{1}, Int32Data: []int32{60000}}, []uint16{60000}},
		{&TensorProto{DataType: proto.Int32(9), Dims: []int64{3}, Int32Data: []int32{1, 0, 1}}, []bool{true, false, true}},
		{&TensorProto{DataType: proto.Int32(10), Dims: []int64{1}, Int32Data: []int32{0x3c00}}, []Float16{0x3c00}},
		{&TensorProto{DataType: proto.Int32(12), Dims: []int64{1}, Uint64Data: []uint64{4000000000}}, []uint32{4000000000}},
		{&TensorProto{DataType: proto.Int32(13), Dims: []int64{1}, Uint64Data: []uint64{1 << 63}}, []uint64{1 << 63}},
		{&TensorProto{DataType: proto.Int32(1), Dims: []int64{0}}, []float32{}},
	}
	for _, tc := range cases {
		got, err := TensorData(tc.tp)
		if err != nil {
			t.Errorf("%v: %v", tc.tp.GetDataType(), err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %#v, want %#v", tc.tp.GetDataType(), got, tc.want)
		}
	}
}

func TestTensorDataErrors(t *testing.T) {
	ext := &TensorProto{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{2},
		DataLocation: TensorProto_EXTERNAL.Enum(),
		ExternalData: []*StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("w.bin")}}}
	_, err := TensorData(ext)
	var ee *ExternalDataError
	if !errors.As(err, &ee) || ee.Tensor != "w" || ee.Location != "w.bin" {
		t.Errorf("external data: %v", err)
	}
	str := &TensorProto{Name: proto.String("s"), DataType: proto.Int32(int32(TensorProto_STRING)), Dims: []int64{1}, StringData: [][]byte{[]byte("x")}}
	_, err = TensorData(str)
	var ue *UnsupportedTypeError
	if !errors.As(err, &ue) || ue.DataType != TensorProto_STRING {
		t.Errorf("string tensor: %v", err)
	}
	for name, tp := range map[string]*TensorProto{
		"short raw":       {DataType: proto.Int32(1), Dims: []int64{2}, RawData: []byte{0, 0, 0x80}},
		"short typed":     {DataType: proto.Int32(1), Dims: []int64{3}, FloatData: []float32{1}},
		"negative dim":    {DataType: proto.Int32(1), Dims: []int64{-1}},
		"undefined type":  {Dims: []int64{1}, FloatData: []float32{1}},
		"int4 unsupport":  {DataType: proto.Int32(int32(TensorProto_INT4)), Dims: []int64{2}, RawData: []byte{0x12}},
		"too many elems":  {DataType: proto.Int32(1), Dims: []int64{1 << 20, 1 << 20}},
		"raw without dim": {DataType: proto.Int32(1), RawData: []byte{}},
	} {
		if _, err := TensorData(tp); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := MakeTensor("m", []int64{2, 2}, []float32{1}); err == nil {
		t.Error("MakeTensor with a wrong element count: no error")
	}
}

func TestFloat16(t *testing.T) {
	cases := map[Float16]float32{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24), 0x3555: 0.33325195,
		0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)), 0x8000: float32(math.Copysign(0, -1)),
	}
	for h, want := range cases {
		if got := h.Float32(); got != want || math.Signbit(float64(got)) != math.Signbit(float64(want)) {
			t.Errorf("Float16(%#04x) = %v, want %v", uint16(h), got, want)
		}
	}
	if !math.IsNaN(float64(Float16(0x7e00).Float32())) {
		t.Error("0x7e00 is not NaN")
	}
	if got := BFloat16(0x3f80).Float32(); got != 1 {
		t.Errorf("BFloat16(0x3f80) = %v", got)
	}
}

func tinyModel(t *testing.T) *ModelProto {
	t.Helper()
	w, err := MakeTensor("w", []int64{2}, []float32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	g := MakeGraph("g",
		[]*NodeProto{MakeNode("n", "Add", []string{"x", "w"}, []string{"y"}, AttrInt("i", 1), AttrFloats("fs", 1, 2), AttrStrings("ss", "a"))},
		[]*ValueInfoProto{MakeValueInfo("x", TensorProto_FLOAT, DimParam("batch"), DimValue(2))},
		[]*ValueInfoProto{MakeValueInfo("y", TensorProto_FLOAT, DimParam("batch"), DimValue(2))},
		w)
	return MakeModel(g, Opset("", 17), Opset("ai.onnx.ml", 3))
}

func TestWriteReadModel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	m := tinyModel(t)
	if m.GetIrVersion() != 8 {
		t.Errorf("IR version for opset 17: %d, want 8", m.GetIrVersion())
	}
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	// Overwrite in place: still one file, no temporaries left.
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after two writes, want 1", len(entries))
	}
	back, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back, m) {
		t.Error("model changed in the round trip")
	}
	in := back.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape().GetDim()
	if in[0].GetDimParam() != "batch" || in[1].GetDimValue() != 2 {
		t.Errorf("input dims %v", in)
	}
	if err := WriteModel(filepath.Join(dir, "missing", "m.onnx"), m); err == nil {
		t.Error("writing into a missing folder: no error")
	}
}

func TestDecodeModelErrors(t *testing.T) {
	good, err := proto.Marshal(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeModel(nil); !errors.Is(err, ErrEmptyModel) {
		t.Errorf("empty: %v", err)
	}
	if _, err := DecodeModel([]byte("\xff\xff\xff\xff garbage")); err == nil {
		t.Error("garbage: no error")
	}
	if _, err := DecodeModel(good[:len(good)-3]); err == nil {
		t.Error("truncated: no error")
	}
	noGraph, _ := proto.Marshal(&ModelProto{IrVersion: proto.Int64(8)})
	if _, err := DecodeModel(noGraph); err == nil || !strings.Contains(err.Error(), "no graph") {
		t.Errorf("no graph: %v", err)
	}
	if _, err := ReadModel(filepath.Join(t.TempDir(), "none.onnx")); err == nil {
		t.Error("missing file: no error")
	}
}

// The half-precision conversions against hand-computed bit patterns:
// exact values, ties to even, subnormals, overflow and NaN.
func TestFloat16Of(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want Float16
	}{
		{0, 0}, {math.Copysign(0, -1), 0x8000}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65519, 0x7bff}, {65520, 0x7c00},
		{1e9, 0x7c00}, {math.Inf(-1), 0xfc00}, {0x1p-14, 0x0400}, {0x1p-24, 0x0001}, {0x1p-25, 0}, {0x1.8p-25, 0x0001},
		{1 + 0x1p-11, 0x3c00}, {1 + 0x3p-11, 0x3c02}, {1 + 0x1p-10, 0x3c01}, {0.1, 0x2e66}, {3.140625, 0x4248}, {2047.0 / 2048 * 0x1p-14, 0x0400},
	} {
		if got := Float16Of(c.v); got != c.want {
			t.Errorf("Float16Of(%v) = %#04x, want %#04x", c.v, uint16(got), uint16(c.want))
		}
		if !math.IsInf(c.v, 0) && math.Abs(c.v) <= 65504 && float64(c.want.Float32()) != float64(float32(c.v)) && math.Abs(float64(c.want.Float32())-c.v) > math.Abs(c.v)*0x1p-11+0x1p-25 {
			t.Errorf("Float16Of(%v) = %v is not the nearest half", c.v, c.want.Float32())
		}
	}
	if h := Float16Of(math.NaN()); h.Float32() == h.Float32() {
		t.Error("NaN lost")
	}
	for _, c := range []struct {
		v    float32
		want BFloat16
	}{{1, 0x3f80}, {-1, 0xbf80}, {1 + 0x1p-8, 0x3f80}, {1 + 0x3p-8, 0x3f82}, {1 + 0x1.01p-8, 0x3f81}, {float32(math.Inf(1)), 0x7f80}} {
		if got := BFloat16Of(c.v); got != c.want {
			t.Errorf("BFloat16Of(%v) = %#04x, want %#04x", c.v, uint16(got), uint16(c.want))
		}
	}
}
