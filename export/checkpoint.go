package export

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
)

// CheckpointOptions are the Options of Checkpoint and where it finds what
// a checkpoint does not carry itself. A text source's vocabulary
// (model.StateVocabulary) and label names (model.StateLabels) are the
// checkpoint's unless Options sets them.
type CheckpointOptions struct {
	Options
	// MetricsFile is a metrics.json to record as the test metrics; empty:
	// the checkpoint's State (model.StateTestMetrics, set by an import),
	// else model.MetricsFile beside the checkpoint, else none.
	MetricsFile string
	// WordIndexFile is the word index whose SHA-256 to record; empty: the
	// checkpoint's State (model.StateWordIndexSHA256), else
	// DefaultWordIndex when set, else none.
	WordIndexFile    string
	DefaultWordIndex string
}

// Checkpoint exports the checkpoint at ckPath as the ONNX file out,
// written atomically, and returns the checkpoint. Options.TestMetrics and
// WordIndexSHA256, when empty, are filled as CheckpointOptions says.
//
// Errors: the checkpoint's (model.LoadCheckpoint), a metrics file that is
// not metrics JSON (model.ErrMetrics), an unreadable word index, and those
// of Model.
func Checkpoint(ckPath, out string, o CheckpointOptions) (*model.Checkpoint, error) {
	ck, err := model.LoadCheckpoint(ckPath)
	if err != nil {
		return nil, err
	}
	opts := o.Options
	if opts.TestMetrics == nil {
		if opts.TestMetrics, err = testMetrics(ck, ckPath, o.MetricsFile); err != nil {
			return nil, err
		}
	}
	if opts.WordIndexSHA256 == "" {
		if opts.WordIndexSHA256, err = wordIndexSHA(ck, o.WordIndexFile, o.DefaultWordIndex); err != nil {
			return nil, err
		}
	}
	if opts.Vocabulary == "" {
		opts.Vocabulary = ck.State[model.StateVocabulary]
	}
	if opts.Labels == "" {
		opts.Labels = ck.State[model.StateLabels]
	}
	mp, err := Model(ck.Model, opts)
	if err != nil {
		return nil, err
	}
	return ck, onnx.WriteModel(out, mp)
}

// testMetrics reads the metrics to record: file, else the checkpoint's
// State, else metrics.json beside the checkpoint; nil if none.
func testMetrics(ck *model.Checkpoint, ckPath, file string) (map[string]float64, error) {
	if file == "" {
		if s := ck.State[model.StateTestMetrics]; s != "" {
			var m map[string]float64
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				return nil, fmt.Errorf("export: %s: checkpoint state %s: %w", ckPath, model.StateTestMetrics, err)
			}
			return m, nil
		}
		file = filepath.Join(filepath.Dir(ckPath), model.MetricsFile)
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	m, err := model.ReadMetrics(file)
	if err != nil {
		return nil, fmt.Errorf("export: metrics: %w", err)
	}
	return m.Numbers(), nil
}

// wordIndexSHA is the SHA-256 of file, else the one the checkpoint
// records, else that of def (when it exists); "" if none.
func wordIndexSHA(ck *model.Checkpoint, file, def string) (string, error) {
	if file == "" {
		if s := ck.State[model.StateWordIndexSHA256]; s != "" {
			return s, nil
		}
		if def == "" {
			return "", nil
		}
		if _, err := os.Stat(def); err != nil {
			return "", nil
		}
		file = def
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("export: word index: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("export: word index: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
