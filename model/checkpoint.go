package model

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/internal/atomicfile"
)

// Checkpoint file format, version 1 (all integers little-endian):
//
//	magic         8 bytes  "BIRNNCKP"
//	version       uint32   1
//	header size   uint64   bytes of the JSON header
//	payload size  uint64   bytes of the float32 payload
//	header        JSON: config, epoch, history, state and the name and
//	              shape of every tensor, model weights then optimizer slots
//	payload       float32 little-endian, the tensors back to back in header order
//	checksum      32 bytes SHA-256 of everything before it
const (
	// CheckpointMagic opens every checkpoint file.
	CheckpointMagic = "BIRNNCKP"
	// CheckpointVersion is the format version SaveCheckpoint writes and the
	// newest LoadCheckpoint reads.
	CheckpointVersion = 1

	preludeSize    = 8 + 4 + 8 + 8
	checksumSize   = sha256.Size
	maxHeaderSize  = 64 << 20
	maxPayloadSize = 1 << 44
)

// Checkpoint errors; LoadCheckpoint wraps one of them with the details.
var (
	ErrNotCheckpoint = errors.New("not a birnn checkpoint (bad magic)")
	ErrVersion       = errors.New("unsupported checkpoint version")
	ErrTruncated     = errors.New("checkpoint truncated")
	ErrChecksum      = errors.New("checkpoint checksum mismatch (file damaged)")
	ErrCorrupt       = errors.New("checkpoint corrupt")
)

// Checkpoint is one file, versioned format, written atomically (temp +
// fsync + rename), checksum verified on load.
type Checkpoint struct {
	Model     *Model
	Epoch     int               // epochs completed
	History   History           // metrics of those epochs
	Optimizer []*Param          // optimizer slots by name (e.g. "adam.m/lstm_0.W"), opaque to model
	State     map[string]string // anything else the trainer needs to resume (RNG state, step counters), opaque
}

type tensorInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

type ckptHeader struct {
	Config    *configs.Config   `json:"config"`
	Epoch     int               `json:"epoch"`
	History   History           `json:"history"`
	State     map[string]string `json:"state,omitempty"`
	Params    []tensorInfo      `json:"params"`
	Optimizer []tensorInfo      `json:"optimizer,omitempty"`
}

// SaveCheckpoint writes c to path atomically: a temporary file in the same
// folder, fsync, rename. A model whose weights do not match its config, an
// optimizer slot whose data does not fill its shape, a negative epoch or an
// inconsistent history is an error and nothing is written.
func SaveCheckpoint(path string, c *Checkpoint) error {
	if c == nil || c.Model == nil {
		return errors.New("model: save checkpoint: no model")
	}
	if err := checkShapes(c.Model.Config, c.Model.Params); err != nil {
		return fmt.Errorf("model: save checkpoint: %w", err)
	}
	if c.Epoch < 0 {
		return fmt.Errorf("model: save checkpoint: negative epoch %d", c.Epoch)
	}
	if err := c.History.Validate(); err != nil {
		return fmt.Errorf("model: save checkpoint: %w", err)
	}
	h := ckptHeader{Config: c.Model.Config, Epoch: c.Epoch, History: c.History, State: c.State}
	var payload uint64
	seen := map[string]bool{}
	for _, p := range c.Optimizer {
		if p == nil {
			return errors.New("model: save checkpoint: nil optimizer slot")
		}
		if seen[p.Name] {
			return fmt.Errorf("model: save checkpoint: optimizer slot %q twice", p.Name)
		}
		seen[p.Name] = true
		if err := checkTensor(p); err != nil {
			return fmt.Errorf("model: save checkpoint: optimizer slot %w", err)
		}
	}
	for _, p := range c.Model.Params {
		h.Params = append(h.Params, tensorInfo{p.Name, p.Shape})
		payload += 4 * uint64(len(p.Data))
	}
	for _, p := range c.Optimizer {
		h.Optimizer = append(h.Optimizer, tensorInfo{p.Name, p.Shape})
		payload += 4 * uint64(len(p.Data))
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("model: save checkpoint: header: %w", err)
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		sum := sha256.New()
		bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 1<<16)
		ew := &errWriter{w: bw}
		var pre [preludeSize]byte
		copy(pre[:8], CheckpointMagic)
		binary.LittleEndian.PutUint32(pre[8:], CheckpointVersion)
		binary.LittleEndian.PutUint64(pre[12:], uint64(len(hdr)))
		binary.LittleEndian.PutUint64(pre[20:], payload)
		ew.Write(pre[:])
		ew.Write(hdr)
		var buf [4096]byte
		for _, ps := range [][]*Param{c.Model.Params, c.Optimizer} {
			for _, p := range ps {
				for i := 0; i < len(p.Data); {
					n := 0
					for ; n+4 <= len(buf) && i < len(p.Data); i, n = i+1, n+4 {
						binary.LittleEndian.PutUint32(buf[n:], math.Float32bits(p.Data[i]))
					}
					ew.Write(buf[:n])
				}
			}
		}
		if ew.err != nil {
			return ew.err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		_, err := w.Write(sum.Sum(nil))
		return err
	})
	if err != nil {
		return fmt.Errorf("model: save checkpoint: %w", err)
	}
	return nil
}

func checkTensor(p *Param) error {
	for _, d := range p.Shape {
		if d < 0 {
			return fmt.Errorf("%q: negative dimension in shape %v", p.Name, p.Shape)
		}
	}
	if len(p.Data) != shapeSize(p.Shape) {
		return fmt.Errorf("%q: %d values for shape %v", p.Name, len(p.Data), p.Shape)
	}
	return nil
}

// LoadCheckpoint reads and verifies a checkpoint: magic, version, the
// lengths the prelude announces against the file size, the SHA-256
// checksum, then the header and the weights against the architecture of
// the stored config. Any failure is an error naming the problem and
// wrapping ErrNotCheckpoint, ErrVersion, ErrTruncated, ErrChecksum or
// ErrCorrupt; nothing is ever loaded from a damaged file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: load checkpoint: %w", err)
	}
	c, err := decodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("model: load checkpoint %s: %w", path, err)
	}
	return c, nil
}

func decodeCheckpoint(b []byte) (*Checkpoint, error) {
	n := uint64(len(b))
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrTruncated)
	}
	if len(b) < len(CheckpointMagic) {
		if bytes.HasPrefix([]byte(CheckpointMagic), b) {
			return nil, fmt.Errorf("%w: %d bytes, shorter than the magic", ErrTruncated, len(b))
		}
		return nil, ErrNotCheckpoint
	}
	if string(b[:8]) != CheckpointMagic {
		return nil, fmt.Errorf("%w: starts with %q", ErrNotCheckpoint, b[:8])
	}
	if n < preludeSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte prelude", ErrTruncated, n, preludeSize)
	}
	version := binary.LittleEndian.Uint32(b[8:])
	if version == 0 || version > CheckpointVersion {
		return nil, fmt.Errorf("%w: file is version %d, this birnn reads versions 1 to %d", ErrVersion, version, CheckpointVersion)
	}
	hsize := binary.LittleEndian.Uint64(b[12:])
	psize := binary.LittleEndian.Uint64(b[20:])
	if hsize > maxHeaderSize || psize > maxPayloadSize {
		// No checkpoint birnn writes comes near these sizes: damaged.
		return nil, fmt.Errorf("%w: prelude announces a %d-byte header and %d-byte payload in a %d-byte file", ErrCorrupt, hsize, psize, n)
	}
	want := preludeSize + hsize + psize + checksumSize
	if n < want {
		return nil, fmt.Errorf("%w: %d bytes, the prelude announces %d", ErrTruncated, n, want)
	}
	if n > want {
		return nil, fmt.Errorf("%w: %d bytes, the prelude announces %d (trailing data)", ErrCorrupt, n, want)
	}
	body := b[:n-checksumSize]
	sum := sha256.Sum256(body)
	if !bytes.Equal(sum[:], b[n-checksumSize:]) {
		return nil, ErrChecksum
	}
	var h ckptHeader
	dec := json.NewDecoder(bytes.NewReader(b[preludeSize : preludeSize+hsize]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if h.Config == nil {
		return nil, fmt.Errorf("%w: header has no config", ErrCorrupt)
	}
	if h.Epoch < 0 {
		return nil, fmt.Errorf("%w: negative epoch %d", ErrCorrupt, h.Epoch)
	}
	if err := h.History.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	payload := b[preludeSize+hsize : n-checksumSize]
	var off uint64
	read := func(infos []tensorInfo) ([]*Param, error) {
		ps := make([]*Param, 0, len(infos))
		for _, ti := range infos {
			size := uint64(1)
			for _, d := range ti.Shape {
				if d < 0 || d > math.MaxInt32 {
					return nil, fmt.Errorf("%w: %q has shape %v", ErrCorrupt, ti.Name, ti.Shape)
				}
				size *= uint64(d)
				if size > psize {
					return nil, fmt.Errorf("%w: %q (shape %v) exceeds the payload", ErrCorrupt, ti.Name, ti.Shape)
				}
			}
			if off+4*size > psize {
				return nil, fmt.Errorf("%w: %q (shape %v) runs past the payload", ErrCorrupt, ti.Name, ti.Shape)
			}
			p := &Param{Name: ti.Name, Shape: ti.Shape, Data: make([]float32, size)}
			for i := range p.Data {
				p.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(payload[off:]))
				off += 4
			}
			ps = append(ps, p)
		}
		return ps, nil
	}
	params, err := read(h.Params)
	if err != nil {
		return nil, err
	}
	opt, err := read(h.Optimizer)
	if err != nil {
		return nil, err
	}
	if off != psize {
		return nil, fmt.Errorf("%w: tensors fill %d of %d payload bytes", ErrCorrupt, off, psize)
	}
	if err := checkShapes(h.Config, params); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return &Checkpoint{
		Model:     &Model{Config: h.Config, Params: params},
		Epoch:     h.Epoch,
		History:   h.History,
		Optimizer: opt,
		State:     h.State,
	}, nil
}
