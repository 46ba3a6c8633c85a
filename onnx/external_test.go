package onnx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"
)

// extTensor is a FLOAT tensor of dims stored at location/offset/length
// (length < 0: not stated).
func extTensor(name, loc string, offset, length int64, dims ...int64) *TensorProto {
	t := &TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(TensorProto_FLOAT)), Dims: dims,
		DataLocation: TensorProto_EXTERNAL.Enum()}
	t.ExternalData = append(t.ExternalData, &StringStringEntryProto{Key: proto.String("location"), Value: proto.String(loc)})
	if offset >= 0 {
		t.ExternalData = append(t.ExternalData, &StringStringEntryProto{Key: proto.String("offset"), Value: proto.String(strconv.FormatInt(offset, 10))})
	}
	if length >= 0 {
		t.ExternalData = append(t.ExternalData, &StringStringEntryProto{Key: proto.String("length"), Value: proto.String(strconv.FormatInt(length, 10))})
	}
	return t
}

// extFolder makes a model folder with data.bin (the floats 0…7), a
// subfolder file, and links in and out of the folder; outside holds a file
// the model must not reach.
func extFolder(t testing.TB) (dir string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "model")
	for _, d := range []string{dir, filepath.Join(dir, "sub"), filepath.Join(base, "outside")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := EncodeRaw([]float32{0, 1, 2, 3, 4, 5, 6, 7})
	for _, p := range []string{filepath.Join(dir, "data.bin"), filepath.Join(dir, "sub", "w.bin"), filepath.Join(base, "outside", "secret.bin")} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"in.bin":     "data.bin",
		"up.bin":     "../outside/secret.bin",
		"abs.bin":    filepath.Join(base, "outside", "secret.bin"),
		"subdir":     "../outside",
		"empty.bin":  "",
		"dangle.bin": "nothing-here",
	}
	for name, target := range links {
		if target == "" {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestExternalData(t *testing.T) {
	dir := extFolder(t)
	x := NewExternalData(dir)
	defer x.Close()
	for _, c := range []struct {
		name   string
		t      *TensorProto
		want   []float32
		unsafe bool // ErrExternalLocation
		bad    bool // some other error
	}{
		{name: "whole file", t: extTensor("a", "data.bin", -1, -1, 8), want: []float32{0, 1, 2, 3, 4, 5, 6, 7}},
		{name: "offset and length", t: extTensor("b", "data.bin", 8, 12, 3), want: []float32{2, 3, 4}},
		{name: "offset to the end", t: extTensor("c", "data.bin", 24, -1, 2), want: []float32{6, 7}},
		{name: "subfolder", t: extTensor("d", "sub/w.bin", 0, 8, 2), want: []float32{0, 1}},
		{name: "dot segments inside", t: extTensor("e", "sub/../data.bin", 4, 4), want: []float32{1}},
		{name: "link inside the folder", t: extTensor("f", "in.bin", 28, 4), want: []float32{7}},
		{name: "empty tensor", t: extTensor("g", "data.bin", 32, 0, 0), want: []float32{}},
		{name: "absolute", t: extTensor("h", filepath.Join(filepath.Dir(dir), "outside", "secret.bin"), 0, 4), unsafe: true},
		{name: "parent", t: extTensor("i", "../outside/secret.bin", 0, 4), unsafe: true},
		{name: "parent after a subfolder", t: extTensor("j", "sub/../../outside/secret.bin", 0, 4), unsafe: true},
		{name: "relative link out", t: extTensor("k", "up.bin", 0, 4), unsafe: true},
		{name: "absolute link out", t: extTensor("l", "abs.bin", 0, 4), unsafe: true},
		{name: "folder link out", t: extTensor("m", "subdir/secret.bin", 0, 4), unsafe: true},
		{name: "missing file", t: extTensor("n", "nope.bin", 0, 4), bad: true},
		{name: "dangling link", t: extTensor("o", "dangle.bin", 0, 4), bad: true},
		{name: "past the end", t: extTensor("p", "data.bin", 28, 8, 2), bad: true},
		{name: "offset past the end", t: extTensor("q", "data.bin", 40, -1), bad: true},
		{name: "length disagrees with dims", t: extTensor("r", "data.bin", 0, 8, 3), bad: true},
		{name: "empty file", t: extTensor("s", "empty.bin", 0, 4), bad: true},
		{name: "folder", t: extTensor("t", "sub", 0, 4), bad: true},
		{name: "empty location", t: extTensor("u", "", 0, 4), bad: true},
	} {
		got, err := TensorDataFrom(c.t, x)
		switch {
		case c.unsafe:
			var ee *ExternalDataError
			if !errors.Is(err, ErrExternalLocation) || !errors.As(err, &ee) || ee.Location == "" {
				t.Errorf("%s: err %v, want ErrExternalLocation naming the location", c.name, err)
			}
		case c.bad:
			var ee *ExternalDataError
			if err == nil || !errors.As(err, &ee) || errors.Is(err, ErrExternalLocation) {
				t.Errorf("%s: err %v, want an ExternalDataError", c.name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !reflect.DeepEqual(got, c.want):
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	bad := extTensor("v", "data.bin", 0, -1, 8)
	bad.ExternalData = append(bad.ExternalData, &StringStringEntryProto{Key: proto.String("offset"), Value: proto.String("-4")})
	if _, err := TensorDataFrom(bad, x); err == nil {
		t.Error("negative offset accepted")
	}
	if _, err := TensorData(extTensor("w", "data.bin", 0, 4)); !errors.Is(err, ErrNoModelFolder) {
		t.Errorf("without a folder: %v, want ErrNoModelFolder", err)
	}
}

// TestReadModelExternal checks that ReadModel inlines external data of
// initializers, attributes and subgraphs, and refuses a location outside
// the folder with an error naming it.
func TestReadModelExternal(t *testing.T) {
	dir := extFolder(t)
	body := MakeGraph("body", []*NodeProto{MakeNode("c", "Constant", nil, []string{"k"}, AttrTensor("value", extTensor("k", "data.bin", 4, 4)))}, nil, nil)
	g := MakeGraph("g", []*NodeProto{MakeNode("if", "If", []string{"cond"}, []string{"y"}, AttrGraph("then_branch", body), AttrGraph("else_branch", body))},
		nil, nil, extTensor("w", "data.bin", 8, 8, 2))
	m := MakeModel(g, Opset("", 17))
	path := filepath.Join(dir, "model.onnx")
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	files, err := ExternalFiles(m)
	if err != nil || !reflect.DeepEqual(files, []string{"data.bin"}) {
		t.Errorf("ExternalFiles = %v, %v", files, err)
	}
	got, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := TensorData(got.GetGraph().GetInitializer()[0])
	if err != nil || !reflect.DeepEqual(w, []float32{2, 3}) {
		t.Errorf("initializer: %v, %v", w, err)
	}
	k, err := TensorData(got.GetGraph().GetNode()[0].GetAttribute()[0].GetG().GetNode()[0].GetAttribute()[0].GetT())
	if err != nil || !reflect.DeepEqual(k, []float32{1}) {
		t.Errorf("subgraph constant: %v, %v", k, err)
	}
	m.GetGraph().GetInitializer()[0] = extTensor("w", "../outside/secret.bin", 0, 8, 2)
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	_, err = ReadModel(path)
	if !errors.Is(err, ErrExternalLocation) || !bytes.Contains([]byte(err.Error()), []byte("../outside/secret.bin")) {
		t.Errorf("escaping model: %v", err)
	}
}

// FuzzExternalData resolves arbitrary locations, offsets and lengths
// against a folder with links in and out of it: the result is an error or
// bytes of a file inside the folder, never a panic and never the file
// outside.
func FuzzExternalData(f *testing.F) {
	for _, s := range []struct {
		loc    string
		off, n int64
	}{{"data.bin", 0, 32}, {"../outside/secret.bin", 0, 4}, {"up.bin", 4, 4}, {"sub/w.bin", 30, 2}, {"/etc/passwd", 0, 1},
		{"subdir/secret.bin", 0, 4}, {"in.bin", -1, -1}, {"sub/../data.bin", 1, 1}, {"", 0, 0}, {".", 0, 0}} {
		f.Add(s.loc, s.off, s.n)
	}
	dir := extFolder(f)
	f.Fuzz(func(t *testing.T, loc string, off, n int64) {
		x := NewExternalData(dir)
		defer x.Close()
		tp := extTensor("t", loc, off, n, 1)
		tp.DataType = proto.Int32(int32(TensorProto_UINT8))
		b, err := x.Bytes(tp)
		if err != nil {
			return
		}
		// Every readable file inside holds the same bytes as the one
		// outside, so check the path instead: it must resolve inside dir.
		real, rerr := filepath.EvalSymlinks(filepath.Join(dir, filepath.FromSlash(loc)))
		root, _ := filepath.EvalSymlinks(dir)
		if rerr != nil {
			t.Fatalf("read %q, which does not resolve: %v", loc, rerr)
		}
		if rel, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("read %q, which resolves outside the folder to %s", loc, real)
		}
		if off < 0 {
			off = 0 // not stated
		}
		if int64(len(b)) > 32-off || off > 32 {
			t.Fatalf("read %d bytes at offset %d of a 32-byte file", len(b), off)
		}
	})
}

// MoveToExternalData writes what ReadModel reads back: the same tensors,
// now in a data file beside the model; a location outside the folder is
// refused before anything is written.
func TestMoveToExternalData(t *testing.T) {
	dir := t.TempDir()
	big, _ := MakeTensor("big", []int64{3, 5}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	small, _ := MakeTensor("small", []int64{1}, []int64{7})
	typed := &TensorProto{Name: proto.String("typed"), DataType: proto.Int32(int32(TensorProto_INT64)), Dims: []int64{9}, Int64Data: []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	inner, _ := MakeTensor("inner", []int64{20}, make([]float32, 20))
	body := MakeGraph("body", nil, nil, nil, inner)
	g := MakeGraph("g", []*NodeProto{MakeNode("if", "If", []string{"c"}, nil, AttrGraph("then_branch", body))}, nil, nil, big, small, typed)
	m := MakeModel(g)
	if err := MoveToExternalData(m, dir, "../w.bin", 16); !errors.Is(err, ErrExternalLocation) {
		t.Errorf("escaping location: %v", err)
	}
	if err := MoveToExternalData(m, dir, "model.onnx.data", 16); err != nil {
		t.Fatal(err)
	}
	for _, tp := range []*TensorProto{big, typed, inner} {
		if tp.GetDataLocation() != TensorProto_EXTERNAL {
			t.Errorf("%s stayed inline", tp.GetName())
		}
	}
	if small.GetDataLocation() == TensorProto_EXTERNAL {
		t.Error("a tensor under the size threshold moved")
	}
	path := filepath.Join(dir, "model.onnx")
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	back, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []any{
		[]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, []int64{7}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9},
	} {
		got, err := TensorData(back.GetGraph().GetInitializer()[i])
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("initializer %d: %v, %v; want %v", i, got, err, want)
		}
	}
	if err := MoveToExternalData(m, dir, "again.bin", 0); err == nil {
		t.Error("moving external tensors again succeeded")
	}
}
