package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/birnn/birnn/internal/atomicfile"
)

// ErrHistory is wrapped by the errors of History.Validate and ReadHistory.
var ErrHistory = errors.New("model: invalid history")

// History is Keras's history.history plus seconds per epoch; history.json
// is exactly this JSON. Each slice has one value per completed epoch.
type History struct {
	Loss        []float64 `json:"loss"`
	Accuracy    []float64 `json:"accuracy"`
	ValLoss     []float64 `json:"val_loss,omitempty"`
	ValAccuracy []float64 `json:"val_accuracy,omitempty"`
	Seconds     []float64 `json:"seconds,omitempty"`
}

// Epochs is the number of epochs recorded (the length of Loss).
func (h *History) Epochs() int { return len(h.Loss) }

// Append records one epoch. Pass NaN for val metrics when there is no
// validation set and a negative seconds when it was not measured: those
// series are then left out.
func (h *History) Append(loss, acc, valLoss, valAcc, seconds float64) {
	h.Loss = append(h.Loss, loss)
	h.Accuracy = append(h.Accuracy, acc)
	if !math.IsNaN(valLoss) {
		h.ValLoss = append(h.ValLoss, valLoss)
	}
	if !math.IsNaN(valAcc) {
		h.ValAccuracy = append(h.ValAccuracy, valAcc)
	}
	if seconds >= 0 {
		h.Seconds = append(h.Seconds, seconds)
	}
}

// Clone returns a deep copy of h.
func (h *History) Clone() History {
	cp := func(s []float64) []float64 {
		if s == nil {
			return nil
		}
		return append([]float64(nil), s...)
	}
	return History{cp(h.Loss), cp(h.Accuracy), cp(h.ValLoss), cp(h.ValAccuracy), cp(h.Seconds)}
}

// Validate checks that accuracy has one value per epoch of loss and that
// val_loss, val_accuracy and seconds are either absent or as long. Errors
// wrap ErrHistory and name the series.
func (h *History) Validate() error {
	n := len(h.Loss)
	if len(h.Accuracy) != n {
		return fmt.Errorf("%w: %d accuracy values for %d loss values", ErrHistory, len(h.Accuracy), n)
	}
	for _, s := range []struct {
		name string
		v    []float64
	}{{"val_loss", h.ValLoss}, {"val_accuracy", h.ValAccuracy}, {"seconds", h.Seconds}} {
		if len(s.v) != 0 && len(s.v) != n {
			return fmt.Errorf("%w: %d %s values for %d epochs", ErrHistory, len(s.v), s.name, n)
		}
	}
	if (len(h.ValLoss) == 0) != (len(h.ValAccuracy) == 0) {
		return fmt.Errorf("%w: val_loss and val_accuracy must both be present or both absent", ErrHistory)
	}
	return nil
}

// ReadHistory reads a history.json written by History.Write (or by Keras:
// json.dump(history.history)). Unknown keys are ignored; inconsistent
// lengths are an error wrapping ErrHistory.
func ReadHistory(path string) (*History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: read history: %w", err)
	}
	h, err := DecodeHistory(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// DecodeHistory decodes and validates one history JSON object. Python's
// json.dump writes a diverged epoch's loss as NaN or Infinity, which JSON
// lacks; those tokens are accepted, and so is null (History.Write's form),
// all read as NaN or ±Inf.
func DecodeHistory(r io.Reader) (*History, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("model: read history: %w", err)
	}
	var h History
	if err := json.Unmarshal(pythonNonFinite(b), &h); err != nil {
		return nil, fmt.Errorf("%w: not a history JSON object: %v", ErrHistory, err)
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return &h, nil
}

// jsonFloat is a float64 whose JSON form allows non-finite values: they are
// written as null (read back as NaN) so a diverged run can still be saved.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null", `"NaN"`:
		*f = jsonFloat(math.NaN())
	case `"Infinity"`:
		*f = jsonFloat(math.Inf(1))
	case `"-Infinity"`:
		*f = jsonFloat(math.Inf(-1))
	default:
		v, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("not a number: %s", b)
		}
		*f = jsonFloat(v)
	}
	return nil
}

type historyJSON struct {
	Loss        []jsonFloat `json:"loss"`
	Accuracy    []jsonFloat `json:"accuracy"`
	ValLoss     []jsonFloat `json:"val_loss,omitempty"`
	ValAccuracy []jsonFloat `json:"val_accuracy,omitempty"`
	Seconds     []jsonFloat `json:"seconds,omitempty"`
}

func toJSONFloats(v []float64) []jsonFloat   { return convertFloats[jsonFloat](v) }
func fromJSONFloats(v []jsonFloat) []float64 { return convertFloats[float64](v) }

// convertFloats converts v element by element; nil stays nil.
func convertFloats[D, S ~float64](v []S) []D {
	if v == nil {
		return nil
	}
	out := make([]D, len(v))
	for i, x := range v {
		out[i] = D(x)
	}
	return out
}

// MarshalJSON writes h as Keras's history.history plus seconds, with
// non-finite values as null.
func (h History) MarshalJSON() ([]byte, error) {
	return json.Marshal(historyJSON{toJSONFloats(h.Loss), toJSONFloats(h.Accuracy),
		toJSONFloats(h.ValLoss), toJSONFloats(h.ValAccuracy), toJSONFloats(h.Seconds)})
}

// UnmarshalJSON reads what MarshalJSON writes; null reads as NaN.
func (h *History) UnmarshalJSON(b []byte) error {
	var j historyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = History{fromJSONFloats(j.Loss), fromJSONFloats(j.Accuracy),
		fromJSONFloats(j.ValLoss), fromJSONFloats(j.ValAccuracy), fromJSONFloats(j.Seconds)}
	return nil
}

// pythonNonFinite quotes the bare NaN, Infinity and -Infinity tokens
// Python's json module writes, outside strings, so encoding/json accepts
// them.
func pythonNonFinite(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	var out []byte
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		matched := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(b[i:], []byte(tok)) {
				out = append(out, '"')
				out = append(out, tok...)
				out = append(out, '"')
				i += len(tok) - 1
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, c)
		}
	}
	return out
}

// Write writes h as indented JSON to path atomically (temp file, fsync,
// rename).
func (h *History) Write(path string) error {
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return fmt.Errorf("model: history: %w", err)
	}
	b = append(b, '\n')
	if err := atomicfile.WriteFile(path, b); err != nil {
		return fmt.Errorf("model: write history: %w", err)
	}
	return nil
}
