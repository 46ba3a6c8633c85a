package onnx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
)

// ErrExternalLocation is matched (errors.Is) by an external-data location
// that is absolute or leaves the model's folder (through "..", or through a
// symbolic link that points outside it). A model file must never make its
// reader open files elsewhere.
var ErrExternalLocation = errors.New("onnx: external data location outside the model's folder")

// ErrNoModelFolder is matched by a tensor stored externally in a model that
// was given as bytes, without the folder its data files are relative to.
var ErrNoModelFolder = errors.New("onnx: external data needs the model's folder (load the model from its file)")

// ExternalDataError reports a tensor whose external data (data_location
// EXTERNAL, see https://onnx.ai/onnx/repo-docs/ExternalData.html) cannot be
// read: the location is unsafe (ErrExternalLocation), the model has no
// folder (ErrNoModelFolder), the file is missing or too short, or the
// offset and length are malformed. Err is the cause.
type ExternalDataError struct {
	Tensor   string // tensor name
	Location string // the external_data "location" entry
	Err      error
}

func (e *ExternalDataError) Error() string {
	return fmt.Sprintf("onnx: tensor %q: external data %q: %v", e.Tensor, e.Location, e.Err)
}

// Unwrap returns the cause.
func (e *ExternalDataError) Unwrap() error { return e.Err }

// External is where one externally stored tensor's bytes are.
type External struct {
	Location string // file, relative to the model's folder
	Offset   int64  // byte offset in the file
	Length   int64  // byte count; -1 when not stated (to the end of the file)
}

// ExternalOf parses t's external_data entries. ok is false when t keeps
// its data inside the model. Errors: a missing location, or an offset or
// length that is not a non-negative decimal integer.
func ExternalOf(t *TensorProto) (ext External, ok bool, err error) {
	if t.GetDataLocation() != TensorProto_EXTERNAL {
		return External{}, false, nil
	}
	ext.Length = -1
	seen := false
	for _, kv := range t.GetExternalData() {
		switch kv.GetKey() {
		case "location":
			ext.Location, seen = kv.GetValue(), true
		case "offset", "length":
			v, perr := strconv.ParseInt(kv.GetValue(), 10, 64)
			if perr != nil || v < 0 {
				return ext, true, &ExternalDataError{Tensor: t.GetName(), Location: ext.Location,
					Err: fmt.Errorf("%s %q is not a non-negative integer", kv.GetKey(), kv.GetValue())}
			}
			if kv.GetKey() == "offset" {
				ext.Offset = v
			} else {
				ext.Length = v
			}
		}
	}
	if !seen || ext.Location == "" {
		return ext, true, &ExternalDataError{Tensor: t.GetName(), Err: errors.New("no location entry")}
	}
	return ext, true, nil
}

// ExternalData reads the bytes of externally stored tensors from files in
// one model folder. Files are opened through an os.Root on that folder, so
// a location can name a file in it or below it but never one outside it,
// not even through a symbolic link; each file is opened once and, where the
// platform allows, memory-mapped, so a tensor's bytes are decoded straight
// from the page cache without an intermediate copy. The slices Bytes
// returns stay valid until Close. It is safe for concurrent use.
type ExternalData struct {
	dir   string
	mu    sync.Mutex
	root  *os.Root
	files map[string]*dataFile
	err   error
}

// dataFile is one opened data file: mapped holds its bytes when mapped.
type dataFile struct {
	f      *os.File
	size   int64
	mapped []byte
}

// NewExternalData returns a reader of the data files beside a model in dir.
// Nothing is opened until a tensor needs it.
func NewExternalData(dir string) *ExternalData {
	return &ExternalData{dir: dir, files: map[string]*dataFile{}}
}

// Dir is the model folder locations are relative to.
func (x *ExternalData) Dir() string { return x.dir }

// checkLocation refuses absolute locations and ones that climb out of the
// folder, before any file is touched.
func checkLocation(loc string) error {
	if filepath.IsAbs(loc) || filepath.VolumeName(loc) != "" || !filepath.IsLocal(filepath.FromSlash(loc)) {
		return ErrExternalLocation
	}
	return nil
}

func (x *ExternalData) file(loc string) (*dataFile, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if f, ok := x.files[loc]; ok {
		return f, nil
	}
	if x.root == nil {
		if x.err == nil {
			x.root, x.err = os.OpenRoot(x.dir)
		}
		if x.err != nil {
			return nil, x.err
		}
	}
	f, err := x.root.Open(filepath.FromSlash(loc))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
			// os.Root reports a path that escapes it (a symbolic link
			// out of the folder) as a PathError of its own.
			if _, statErr := os.Lstat(filepath.Join(x.dir, filepath.FromSlash(loc))); statErr == nil {
				return nil, fmt.Errorf("%w (%v)", ErrExternalLocation, pe.Err)
			}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", loc)
	}
	df := &dataFile{f: f, size: st.Size()}
	df.mapped = mapFile(f, df.size)
	x.files[loc] = df
	return df, nil
}

// Bytes returns the length bytes of t's data. The slice may alias a
// read-only memory mapping: callers must not modify it, and it is valid
// until Close.
//
// Errors (*ExternalDataError): t is not stored externally, its location is
// unsafe or missing, the file cannot be opened, or offset+length exceeds the
// file.
func (x *ExternalData) Bytes(t *TensorProto) ([]byte, error) {
	ext, ok, err := ExternalOf(t)
	if err != nil {
		return nil, err
	}
	fail := func(err error) error {
		return &ExternalDataError{Tensor: t.GetName(), Location: ext.Location, Err: err}
	}
	if !ok {
		return nil, fail(errors.New("the tensor is not stored externally"))
	}
	if err := checkLocation(ext.Location); err != nil {
		return nil, fail(err)
	}
	f, err := x.file(ext.Location)
	if err != nil {
		return nil, fail(err)
	}
	n := ext.Length
	if n < 0 {
		n = f.size - ext.Offset
	}
	if ext.Offset > f.size || n < 0 || n > f.size-ext.Offset {
		return nil, fail(fmt.Errorf("offset %d + length %d exceeds the file's %d bytes", ext.Offset, n, f.size))
	}
	if f.mapped != nil {
		return f.mapped[ext.Offset : ext.Offset+n : ext.Offset+n], nil
	}
	b := make([]byte, n)
	if _, err := f.f.ReadAt(b, ext.Offset); err != nil {
		return nil, fail(err)
	}
	return b, nil
}

// Close unmaps and closes every opened file. Slices from Bytes are invalid
// afterwards.
func (x *ExternalData) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	var first error
	for loc, f := range x.files {
		if f.mapped != nil {
			if err := unmapFile(f.mapped); err != nil && first == nil {
				first = err
			}
		}
		if err := f.f.Close(); err != nil && first == nil {
			first = err
		}
		delete(x.files, loc)
	}
	if x.root != nil {
		x.root.Close()
		x.root = nil
	}
	return first
}

// TensorDataFrom is TensorData for a model whose external data, if any, is
// read through x (nil: such tensors give an ExternalDataError matching
// ErrNoModelFolder).
func TensorDataFrom(t *TensorProto, x *ExternalData) (any, error) {
	if t.GetDataLocation() != TensorProto_EXTERNAL {
		return TensorData(t)
	}
	ext, _, err := ExternalOf(t)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, &ExternalDataError{Tensor: t.GetName(), Location: ext.Location, Err: ErrNoModelFolder}
	}
	raw, err := x.Bytes(t)
	if err != nil {
		return nil, err
	}
	size := elemSize(TensorProto_DataType(t.GetDataType()))
	if n, err := NumElements(t); err == nil && size > 0 && len(raw) != n*size {
		return nil, &ExternalDataError{Tensor: t.GetName(), Location: ext.Location,
			Err: fmt.Errorf("holds %d bytes, dims %v need %d", len(raw), t.GetDims(), n*size)}
	}
	return rawData(t, raw, fmt.Sprintf("external data %q", ext.Location))
}

// ForEachTensor calls f with every TensorProto of g: initializers, TENSOR
// and TENSORS attributes of nodes, and those of every subgraph (Loop, Scan
// and If bodies), depth first. It stops at the first error f returns.
func ForEachTensor(g *GraphProto, f func(*TensorProto) error) error {
	for _, t := range g.GetInitializer() {
		if err := f(t); err != nil {
			return err
		}
	}
	for _, st := range g.GetSparseInitializer() {
		for _, t := range []*TensorProto{st.GetValues(), st.GetIndices()} {
			if t != nil {
				if err := f(t); err != nil {
					return err
				}
			}
		}
	}
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if t := a.GetT(); t != nil {
				if err := f(t); err != nil {
					return err
				}
			}
			for _, t := range a.GetTensors() {
				if err := f(t); err != nil {
					return err
				}
			}
			if sg := a.GetG(); sg != nil {
				if err := ForEachTensor(sg, f); err != nil {
					return err
				}
			}
			for _, sg := range a.GetGraphs() {
				if err := ForEachTensor(sg, f); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// InlineExternalData copies the external data of every tensor of m
// (initializers, attributes, subgraphs) into its raw_data, read from the
// files in dir, and marks it as stored inside the model: afterwards m no
// longer depends on its folder. Errors: *ExternalDataError.
func InlineExternalData(m *ModelProto, dir string) (err error) {
	x := NewExternalData(dir)
	defer x.Close()
	// A data file truncated while mapped faults on access: an error, not a
	// crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &ExternalDataError{Err: fmt.Errorf("reading the data files failed: %v", r)}
		}
	}()
	return ForEachTensor(m.GetGraph(), func(t *TensorProto) error {
		if t.GetDataLocation() != TensorProto_EXTERNAL {
			return nil
		}
		b, err := x.Bytes(t)
		if err != nil {
			return err
		}
		t.RawData = append([]byte{}, b...)
		t.DataLocation = nil
		t.ExternalData = nil
		return nil
	})
}

// ExternalFiles lists the distinct locations m's external tensors name, in
// order of first use. Errors: a malformed external_data entry.
func ExternalFiles(m *ModelProto) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	err := ForEachTensor(m.GetGraph(), func(t *TensorProto) error {
		ext, ok, err := ExternalOf(t)
		if err != nil || !ok {
			return err
		}
		if !seen[ext.Location] {
			seen[ext.Location] = true
			out = append(out, ext.Location)
		}
		return nil
	})
	return out, err
}

// MoveToExternalData moves the data of m's initializers (subgraphs
// included) of at least minBytes bytes into the file location in dir,
// written atomically, and rewrites them to reference it (offsets aligned
// to 64 bytes), as onnx.save_model(save_as_external_data=True) does; save
// m afterwards with WriteModel. Errors: location is not a plain name inside
// dir (ErrExternalLocation), a tensor already stored externally, or the
// write fails.
func MoveToExternalData(m *ModelProto, dir, location string, minBytes int) error {
	if err := checkLocation(location); err != nil {
		return &ExternalDataError{Location: location, Err: err}
	}
	var all []*TensorProto
	var inits func(g *GraphProto)
	inits = func(g *GraphProto) {
		all = append(all, g.GetInitializer()...)
		for _, n := range g.GetNode() {
			for _, a := range n.GetAttribute() {
				if a.GetG() != nil {
					inits(a.GetG())
				}
				for _, sg := range a.GetGraphs() {
					inits(sg)
				}
			}
		}
	}
	inits(m.GetGraph())
	type move struct {
		t        *TensorProto
		off, len int
	}
	var blob []byte
	var moves []move
	for _, t := range all {
		if t.GetDataLocation() == TensorProto_EXTERNAL {
			return &ExternalDataError{Tensor: t.GetName(), Location: location, Err: errors.New("already stored externally")}
		}
		raw := t.GetRawData()
		if raw == nil {
			var err error
			if raw, err = reencode(t); err != nil {
				return err
			}
		}
		if len(raw) < minBytes {
			continue
		}
		for len(blob)%64 != 0 {
			blob = append(blob, 0)
		}
		moves = append(moves, move{t, len(blob), len(raw)})
		blob = append(blob, raw...)
	}
	if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(location)), blob); err != nil {
		return err
	}
	for _, mv := range moves {
		t := mv.t
		t.RawData, t.FloatData, t.Int32Data, t.Int64Data, t.DoubleData, t.Uint64Data = nil, nil, nil, nil, nil, nil
		t.DataLocation = TensorProto_EXTERNAL.Enum()
		t.ExternalData = []*StringStringEntryProto{
			{Key: strPtr("location"), Value: strPtr(location)},
			{Key: strPtr("offset"), Value: strPtr(strconv.Itoa(mv.off))},
			{Key: strPtr("length"), Value: strPtr(strconv.Itoa(mv.len))},
		}
	}
	return nil
}

func strPtr(s string) *string { return &s }

// reencode is the data of t's typed fields as raw little-endian bytes.
func reencode(t *TensorProto) ([]byte, error) {
	data, err := TensorData(t)
	if err != nil {
		return nil, err
	}
	switch d := data.(type) {
	case []float32:
		return EncodeRaw(d), nil
	case []float64:
		return EncodeRaw(d), nil
	case []int8:
		return EncodeRaw(d), nil
	case []int16:
		return EncodeRaw(d), nil
	case []int32:
		return EncodeRaw(d), nil
	case []int64:
		return EncodeRaw(d), nil
	case []uint8:
		return EncodeRaw(d), nil
	case []uint16:
		return EncodeRaw(d), nil
	case []uint32:
		return EncodeRaw(d), nil
	case []uint64:
		return EncodeRaw(d), nil
	case []bool:
		return EncodeRaw(d), nil
	case []Float16:
		return EncodeRaw(d), nil
	case []BFloat16:
		return EncodeRaw(d), nil
	}
	return nil, &UnsupportedTypeError{Tensor: t.GetName(), DataType: TensorProto_DataType(t.GetDataType())}
}
