package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/score"
)

// ScorerModel serves an score.Scorer: the production Model.
type ScorerModel struct {
	sc   *score.Scorer
	info ModelInfo
}

// Score implements Model.
func (m *ScorerModel) Score(ctx context.Context, texts []string) ([]float32, error) {
	return m.sc.Score(ctx, texts)
}

// ScoreIDs implements Model.
func (m *ScorerModel) ScoreIDs(ctx context.Context, ids [][]int32) ([]float32, error) {
	return m.sc.ScoreIDs(ctx, ids)
}

// Info implements Model.
func (m *ScorerModel) Info() ModelInfo { return m.info }

// Scorer is the underlying score.Scorer (benchmarks call it directly).
func (m *ScorerModel) Scorer() *score.Scorer { return m.sc }

// NewScorerModel prepares the ONNX model b (the bytes of the file at path,
// which names the model, see ModelInfo.Name, and is reported by /v1/model)
// for scoring with
// word index wi and scorer options opts (zero fields: the model's
// metadata, then the study's defaults; see score.Options).
//
// Tensors the model keeps in external data files are read from path's
// folder.
//
// Errors: those of infer.LoadBytesFrom (not ONNX, unsupported operators,
// external data missing or outside the folder, …) and score.New (not a
// [batch, seq] → score classifier).
func NewScorerModel(path string, b []byte, wi dataset.WordIndex, opts score.Options) (*ScorerModel, error) {
	sess, err := infer.LoadBytesFrom(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sc, err := score.New(sess, wi, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	md := sess.Metadata()
	o := sc.Options()
	info := ModelInfo{
		Name:            modelName(path),
		SHA256:          hex.EncodeToString(sum[:]),
		Path:            path,
		Producer:        md.ProducerName,
		ProducerVersion: md.ProducerVersion,
		Opsets:          map[string]int64{},
		Metadata:        md.Props,
		Inputs:          tensorInfos(sess.Inputs()),
		Outputs:         tensorInfos(sess.Outputs()),
		Input:           o.Input,
		Output:          o.Output,
		MaxLen:          o.MaxLen,
		NumWords:        o.NumWords,
	}
	if md.ModelVersion != 0 {
		info.Version = strconv.FormatInt(md.ModelVersion, 10)
	}
	for d, v := range md.Opsets {
		if d == "" {
			d = "ai.onnx"
		}
		info.Opsets[d] = v
	}
	if len(info.Metadata) == 0 {
		info.Metadata = nil
	}
	return &ScorerModel{sc: sc, info: info}, nil
}

// modelName is the file's base name without extension, or its folder's
// name for a file called model.onnx (the layout of exports such as
// testdata/keras/deep_bilstm/model.onnx).
func modelName(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if name == "model" {
		if dir := filepath.Base(filepath.Dir(path)); dir != "." && dir != string(filepath.Separator) {
			return dir
		}
	}
	return name
}

func tensorInfos(vs []infer.ValueInfo) []TensorInfo {
	out := make([]TensorInfo, len(vs))
	for i, v := range vs {
		ti := TensorInfo{Name: v.Name, DType: v.DType.String()}
		if v.Dims != nil {
			ti.Shape = make([]any, len(v.Dims))
			for k, d := range v.Dims {
				if d.Value >= 0 {
					ti.Shape[k] = d.Value
				} else {
					ti.Shape[k] = d.String()
				}
			}
		}
		out[i] = ti
	}
	return out
}

// FileLoader is the Loader of birnn serve: every call reads the model file
// at path afresh (so a reload picks up a replaced file) and builds a
// ScorerModel over it with wi and opts.
func FileLoader(path string, wi dataset.WordIndex, opts score.Options) Loader {
	return func(ctx context.Context) (Model, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return NewScorerModel(path, b, wi, opts)
	}
}

// FilesLoader is FileLoader that also rereads the Keras word index at
// wordIndex on every call, so that a reload picks up a replaced vocabulary
// together with a replaced model.
func FilesLoader(path, wordIndex string, opts score.Options) Loader {
	return func(ctx context.Context) (Model, error) {
		wi, err := dataset.LoadWordIndex(wordIndex)
		if err != nil {
			return nil, fmt.Errorf("word index: %w", err)
		}
		return FileLoader(path, wi, opts)(ctx)
	}
}
