package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/birnn/birnn/internal/atomicfile"
	"google.golang.org/protobuf/proto"
)

// ErrEmptyModel is returned when a model file or byte slice is empty.
var ErrEmptyModel = errors.New("onnx: empty model")

// ReadModel reads and decodes the ONNX model in the file at path. Tensors
// the model keeps in external data files (PyTorch's model.onnx.data) are
// read from path's folder into the returned model (InlineExternalData), so
// it is self-contained.
//
// Errors: the file cannot be read, ErrEmptyModel, the bytes are not a
// valid ModelProto, or an *ExternalDataError (a location outside the
// model's folder matches ErrExternalLocation).
func ReadModel(path string) (*ModelProto, error) {
	m, err := readFile(path, "model", DecodeModel)
	if err != nil {
		return nil, err
	}
	if err := InlineExternalData(m, filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return m, nil
}

// DecodeModel decodes a serialized ModelProto. Errors: ErrEmptyModel, or
// the bytes are corrupt or truncated, or they decode to a model without a
// graph.
func DecodeModel(b []byte) (*ModelProto, error) {
	if len(b) == 0 {
		return nil, ErrEmptyModel
	}
	m := new(ModelProto)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("onnx: decode model: %w", err)
	}
	if m.GetGraph() == nil {
		return nil, errors.New("onnx: decode model: no graph (not an ONNX model?)")
	}
	return m, nil
}

// DecodeTensor decodes a serialized TensorProto, the format of the
// input_N.pb/output_N.pb files of the ONNX conformance tests.
func DecodeTensor(b []byte) (*TensorProto, error) {
	t := new(TensorProto)
	if err := proto.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("onnx: decode tensor: %w", err)
	}
	return t, nil
}

// ReadTensor reads and decodes a serialized TensorProto file.
func ReadTensor(path string) (*TensorProto, error) {
	return readFile(path, "tensor", DecodeTensor)
}

// readFile decodes the file at path with decode. A read error says
// "onnx: read <what>"; a decode error is decode's, with path appended.
func readFile[T any](path, what string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("onnx: read %s: %w", what, err)
	}
	v, err := decode(b)
	if err != nil {
		return zero, fmt.Errorf("%w (%s)", err, path)
	}
	return v, nil
}

// WriteModel serializes m to path atomically: the bytes go to a temporary
// file in the same folder, which is then renamed over path.
func WriteModel(path string, m *ModelProto) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("onnx: encode model: %w", err)
	}
	return writeAtomic(path, b)
}

// WriteTensor serializes t to path atomically.
func WriteTensor(path string, t *TensorProto) error {
	b, err := proto.Marshal(t)
	if err != nil {
		return fmt.Errorf("onnx: encode tensor: %w", err)
	}
	return writeAtomic(path, b)
}

func writeAtomic(path string, b []byte) error {
	if err := atomicfile.WriteFile(path, b); err != nil {
		return fmt.Errorf("onnx: write %s: %w", path, err)
	}
	return nil
}
