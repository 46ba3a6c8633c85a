package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/birnn/birnn/internal/atomicfile"
)

// Metadata keys (ONNX metadata_props) of a birnn export. The exporter
// writes them, the importer and the text scorer read them; a Keras export
// has none, and readers fall back to the study's values.
const (
	MetaNumWords        = "birnn.num_words"         // vocabulary size: ids ≥ it become OOVChar
	MetaMaxLen          = "birnn.maxlen"            // sequence length of the input
	MetaPadding         = "birnn.padding"           // "pre" or "post"
	MetaTruncating      = "birnn.truncating"        // "pre" (keep the last maxlen ids) or "post"
	MetaIndexFrom       = "birnn.index_from"        // offset added to word ranks
	MetaStartChar       = "birnn.start_char"        // id that starts every row
	MetaOOVChar         = "birnn.oov_char"          // id of out-of-vocabulary words
	MetaTokenizer       = "birnn.tokenizer"         // text-to-words rule, e.g. keras_text_to_word_sequence/v1
	MetaWordIndexSHA256 = "birnn.word_index_sha256" // hex SHA-256 of the word index trained with
	MetaVocabulary      = "birnn.vocabulary"        // a text source's Tokenizer vocabulary, JSON (dataset.Vocabulary)
	MetaLabels          = "birnn.labels"            // JSON array of the class names by label ("" for a label without one)
	MetaConfig          = "birnn.config"            // the run configuration as YAML
	MetaTestMetrics     = "birnn.test_metrics"      // JSON object of numbers (loss, accuracy, n)
	MetaVersion         = "birnn.version"           // birnn release that wrote the file
)

// TokenizerKeras is the birnn.tokenizer of a model trained on a text
// source: Keras's preprocessing.text.Tokenizer with its defaults
// (lower=True, the default filters, split=" "), fitted vocabulary in
// MetaVocabulary (dataset.Vocabulary).
const TokenizerKeras = "keras_tokenizer/v1"

// Keras load_data's start and out-of-vocabulary ids, which birnn keeps.
const (
	StartChar = 1
	OOVChar   = 2
)

// Checkpoint State keys that carry an imported model's export metadata, so
// that exporting it again writes them back.
const (
	StateTestMetrics     = "test_metrics"      // JSON object of numbers, as MetaTestMetrics
	StateWordIndexSHA256 = "word_index_sha256" // as MetaWordIndexSHA256
	StateVocabulary      = "vocabulary"        // as MetaVocabulary
	StateLabels          = "labels"            // as MetaLabels
)

// File names inside a run folder (birnn train, birnn reproduce).
const (
	CheckpointFile = "checkpoint.ckpt"
	HistoryFile    = "history.json"
	MetricsFile    = "metrics.json"
	ModelFile      = "model.onnx"
)

// Sentiment labels.
const (
	LabelPositive = "positive"
	LabelNegative = "negative"
)

// DefaultThreshold is the score above which a review is positive: the
// threshold of Keras's binary_accuracy, which the study's accuracies count.
const DefaultThreshold = 0.5

// Positive is birnn's one label rule: a review is positive when its score
// P(positive) is strictly above threshold. It is Keras's binary_accuracy
// rule (y_pred > threshold), so labels agree with the accuracy training
// reports; a score of exactly the threshold is negative. The CLI (predict),
// the service (serve) and the Keras cross-check all label with it.
func Positive(score, threshold float64) bool { return score > threshold }

// Label names the label Positive gives score: LabelPositive or LabelNegative.
func Label(score, threshold float64) string {
	if Positive(score, threshold) {
		return LabelPositive
	}
	return LabelNegative
}

// ErrMetrics is wrapped by every error about a malformed metrics file.
var ErrMetrics = errors.New("model: malformed metrics")

// Metrics is the content of metrics.json: a model's loss and accuracy on N
// rows of a split. birnn train and evaluate write it; Keras exports carry
// the same fields (without split).
type Metrics struct {
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
	Split    string  `json:"split,omitempty"`
	N        int     `json:"n"`
	// The data the figures are of (birnn train and evaluate fill them).
	Dataset  string `json:"dataset,omitempty"`
	NumWords int    `json:"num_words,omitempty"`
	MaxLen   int    `json:"maxlen,omitempty"`
}

// Numbers returns the metrics as the JSON object of numbers recorded in an
// export's metadata (MetaTestMetrics): loss, accuracy and, when known, n.
func (m Metrics) Numbers() map[string]float64 {
	out := map[string]float64{"loss": m.Loss, "accuracy": m.Accuracy}
	if m.N > 0 {
		out["n"] = float64(m.N)
	}
	return out
}

// WriteMetrics writes m as JSON to path atomically.
func WriteMetrics(path string, m Metrics) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// ReadMetrics reads a metrics.json. Errors: the file's own (match
// fs.ErrNotExist for a missing one); ErrMetrics naming the file for bad
// JSON, an accuracy outside [0, 1] or a negative n.
func ReadMetrics(path string) (Metrics, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Metrics{}, err
	}
	return DecodeMetrics(b, path)
}

// DecodeMetrics parses metrics JSON; what names its source in errors.
func DecodeMetrics(b []byte, what string) (Metrics, error) {
	var m Metrics
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrMetrics, what, err)
	}
	if !(m.Accuracy >= 0 && m.Accuracy <= 1) || m.N < 0 {
		return m, fmt.Errorf("%w: %s: accuracy %g, n %d (want accuracy in [0, 1], n ≥ 0)", ErrMetrics, what, m.Accuracy, m.N)
	}
	return m, nil
}
