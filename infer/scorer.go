package infer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/birnn/birnn/dataset"
)

// Keys of a model's metadata_props that tell a Scorer how its training
// data was encoded and padded. The exporter writes them; a Keras export
// has none and the Scorer falls back to the study's values.
const (
	MetaNumWords   = "birnn.num_words"  // vocabulary size: ids ≥ it become the OOV id 2
	MetaMaxLen     = "birnn.maxlen"     // sequence length of the input
	MetaPadding    = "birnn.padding"    // "pre" or "post"
	MetaTruncating = "birnn.truncating" // "pre" (keep the last maxlen ids) or "post"
	MetaIndexFrom  = "birnn.index_from" // offset added to word ranks
)

// The study's encoding, used when neither ScorerOptions nor the model's
// metadata say otherwise.
const (
	DefaultNumWords   = 4000
	DefaultMaxLen     = 100
	DefaultPadding    = "post"
	DefaultTruncating = "pre"
	DefaultIndexFrom  = 3
	DefaultBatchSize  = 64
)

// ErrScorer is matched (errors.Is) by errors about a model a Scorer cannot
// drive: its input or output is not that of a sentiment classifier.
var ErrScorer = errors.New("infer: model is not a sentiment classifier")

// ScorerOptions set how a Scorer encodes text. A zero field is taken from
// the model's metadata_props (keys MetaNumWords, …) and else from the
// study's defaults (DefaultNumWords, …); MaxLen also falls back to a fixed
// sequence dimension of the model's input before DefaultMaxLen.
type ScorerOptions struct {
	NumWords   int    // ids ≥ NumWords become the out-of-vocabulary id 2
	MaxLen     int    // padded length of every row
	Padding    string // "pre" or "post": where short rows get zeros
	Truncating string // "pre" or "post": which end of long rows is cut
	IndexFrom  int    // added to word ranks; reserved ids 0 pad, 1 start, 2 OOV
	BatchSize  int    // rows per Session.Run; default 64
	Input      string // input name; default: the model's only input
	Output     string // output name; default: the model's first output
}

// Scorer turns raw reviews into P(positive) with a Session. It is safe
// for concurrent use.
//
//	text ─dataset tokenizer→ ids ─pad/truncate→ [batch, maxlen] ─Run→
//	[batch, 1] sigmoid (or [batch, 2] softmax, column 1) → scores
type Scorer struct {
	sess *Session
	wi   dataset.WordIndex
	opts ScorerOptions
	in   ValueInfo
}

// NewScorer prepares a Scorer for sess. wi may be nil when only ScoreIDs
// is used.
//
// Errors (matching ErrScorer): the model has no single [batch, seq] input
// of FLOAT, DOUBLE, INT32 or INT64 (or Input names none), Output names no
// output, a fixed sequence dim disagrees with MaxLen; and plain errors for
// malformed metadata or option values.
func NewScorer(sess *Session, wi dataset.WordIndex, opts ScorerOptions) (*Scorer, error) {
	if sess == nil {
		return nil, errors.New("infer: NewScorer: nil session")
	}
	o, err := resolveScorerOptions(sess, opts)
	if err != nil {
		return nil, err
	}
	s := &Scorer{sess: sess, wi: wi, opts: o}
	ins := sess.Inputs()
	switch {
	case o.Input != "":
		found := false
		for _, v := range ins {
			if v.Name == o.Input {
				s.in, found = v, true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: no input named %q", ErrScorer, o.Input)
		}
	case len(ins) == 1:
		s.in = ins[0]
		s.opts.Input = ins[0].Name
	default:
		return nil, fmt.Errorf("%w: it has %d inputs; name one in ScorerOptions.Input", ErrScorer, len(ins))
	}
	switch s.in.DType {
	case Float, Double, Int32, Int64:
	default:
		return nil, fmt.Errorf("%w: input %s: want FLOAT, DOUBLE, INT32 or INT64 ids", ErrScorer, s.in)
	}
	if s.in.Dims != nil {
		if len(s.in.Dims) != 2 {
			return nil, fmt.Errorf("%w: input %s is not [batch, seq]", ErrScorer, s.in)
		}
		if d := s.in.Dims[1]; d.Value >= 0 && int(d.Value) != s.opts.MaxLen {
			return nil, fmt.Errorf("%w: input %s has %d steps, but maxlen is %d", ErrScorer, s.in, d.Value, s.opts.MaxLen)
		}
	}
	outs := sess.Outputs()
	if o.Output == "" {
		if len(outs) == 0 {
			return nil, fmt.Errorf("%w: it has no outputs", ErrScorer)
		}
		s.opts.Output = outs[0].Name
	} else {
		found := false
		for _, v := range outs {
			found = found || v.Name == o.Output
		}
		if !found {
			return nil, fmt.Errorf("%w: no output named %q", ErrScorer, o.Output)
		}
	}
	return s, nil
}

func resolveScorerOptions(sess *Session, o ScorerOptions) (ScorerOptions, error) {
	props := sess.Metadata().Props
	metaInt := func(key string, dst *int, def int) error {
		if *dst != 0 {
			return nil
		}
		v, ok := props[key]
		if !ok {
			*dst = def
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("infer: model metadata %s = %q is not an integer", key, v)
		}
		*dst = n
		return nil
	}
	metaStr := func(key string, dst *string, def string) {
		if *dst != "" {
			return
		}
		if v, ok := props[key]; ok {
			*dst = strings.TrimSpace(v)
		} else {
			*dst = def
		}
	}
	maxLenDef := DefaultMaxLen
	if len(sess.Inputs()) == 1 {
		if d := sess.Inputs()[0].Dims; len(d) == 2 && d[1].Value > 0 {
			maxLenDef = int(d[1].Value)
		}
	}
	if err := metaInt(MetaNumWords, &o.NumWords, DefaultNumWords); err != nil {
		return o, err
	}
	if err := metaInt(MetaMaxLen, &o.MaxLen, maxLenDef); err != nil {
		return o, err
	}
	if err := metaInt(MetaIndexFrom, &o.IndexFrom, DefaultIndexFrom); err != nil {
		return o, err
	}
	metaStr(MetaPadding, &o.Padding, DefaultPadding)
	metaStr(MetaTruncating, &o.Truncating, DefaultTruncating)
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	switch {
	case o.NumWords < 3:
		return o, fmt.Errorf("infer: num_words %d must be at least 3 (ids 0–2 are reserved)", o.NumWords)
	case o.MaxLen <= 0:
		return o, fmt.Errorf("infer: maxlen %d must be positive", o.MaxLen)
	case o.IndexFrom < 0:
		return o, fmt.Errorf("infer: index_from %d is negative", o.IndexFrom)
	case o.BatchSize < 0:
		return o, fmt.Errorf("infer: batch size %d is negative", o.BatchSize)
	case o.Padding != dataset.Pre && o.Padding != dataset.Post:
		return o, fmt.Errorf("infer: padding %q must be %q or %q", o.Padding, dataset.Pre, dataset.Post)
	case o.Truncating != dataset.Pre && o.Truncating != dataset.Post:
		return o, fmt.Errorf("infer: truncating %q must be %q or %q", o.Truncating, dataset.Pre, dataset.Post)
	}
	return o, nil
}

// Options returns the resolved options: every field set.
func (s *Scorer) Options() ScorerOptions { return s.opts }

// Encode turns a review into ids as keras.datasets.imdb.load_data does:
// start id 1, word ranks + IndexFrom, ids ≥ NumWords replaced by 2. Words
// missing from the word index are dropped. Errors: the Scorer has no word
// index.
func (s *Scorer) Encode(text string) ([]int32, error) {
	if s.wi == nil {
		return nil, errors.New("infer: scorer has no word index")
	}
	return s.wi.Encode(text, dataset.EncodeOptions{
		NumWords: s.opts.NumWords, StartChar: 1, OOVChar: 2, IndexFrom: s.opts.IndexFrom,
	}), nil
}

// Score returns P(positive) for each review, in order. Errors: no word
// index, and those of ScoreIDs.
func (s *Scorer) Score(ctx context.Context, texts []string) ([]float32, error) {
	ids := make([][]int32, len(texts))
	for i, t := range texts {
		var err error
		if ids[i], err = s.Encode(t); err != nil {
			return nil, err
		}
	}
	return s.ScoreIDs(ctx, ids)
}

// ScoreIDs returns P(positive) for each row of token ids, in order. Rows
// are padded and truncated to MaxLen and ids ≥ NumWords become 2, as for
// training data. Rows of any length are accepted, including empty ones.
//
// Errors: a negative id; ctx.Err(); a run failure; an output that is
// neither [batch, 1] (sigmoid) nor [batch, 2] (softmax) floats.
func (s *Scorer) ScoreIDs(ctx context.Context, ids [][]int32) ([]float32, error) {
	out := make([]float32, 0, len(ids))
	bs := s.opts.BatchSize
	if bs == 0 {
		bs = len(ids)
	}
	for lo := 0; lo < len(ids); lo += bs {
		hi := min(lo+bs, len(ids))
		rows := make([][]int32, hi-lo)
		for i, r := range ids[lo:hi] {
			row := make([]int32, len(r))
			for j, v := range r {
				switch {
				case v < 0:
					return nil, fmt.Errorf("infer: row %d: negative token id %d", lo+i, v)
				case int(v) >= s.opts.NumWords:
					v = 2
				}
				row[j] = v
			}
			rows[i] = row
		}
		m, err := dataset.PadSequences(rows, s.opts.MaxLen, s.opts.Padding, s.opts.Truncating, 0)
		if err != nil {
			return nil, fmt.Errorf("infer: %w", err)
		}
		p, err := s.run(ctx, m)
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
	}
	return out, nil
}

func (s *Scorer) run(ctx context.Context, m dataset.Matrix) ([]float32, error) {
	shape := []int{m.Rows, m.Cols}
	var in *Tensor
	switch s.in.DType {
	case Float:
		in = New(shape, convertSlice[int32, float32](m.Data))
	case Double:
		in = New(shape, convertSlice[int32, float64](m.Data))
	case Int64:
		in = New(shape, convertSlice[int32, int64](m.Data))
	default:
		in = New(shape, m.Data)
	}
	res, err := s.sess.Run(ctx, map[string]*Tensor{s.opts.Input: in})
	if err != nil {
		return nil, err
	}
	y := res[s.opts.Output]
	var vals []float64
	switch d := y.Data.(type) {
	case []float32:
		vals = convertSlice[float32, float64](d)
	case []float64:
		vals = d
	default:
		return nil, fmt.Errorf("%w: output %q is %s, want floats", ErrScorer, s.opts.Output, y)
	}
	cols := 0
	switch {
	case len(y.Shape) == 2 && y.Shape[0] == m.Rows && (y.Shape[1] == 1 || y.Shape[1] == 2):
		cols = y.Shape[1]
	case len(y.Shape) == 1 && y.Shape[0] == m.Rows:
		cols = 1
	default:
		return nil, fmt.Errorf("%w: output %q has shape %v for %d rows, want [%d, 1] or [%d, 2]",
			ErrScorer, s.opts.Output, y.Shape, m.Rows, m.Rows, m.Rows)
	}
	p := make([]float32, m.Rows)
	for i := range p {
		p[i] = float32(vals[i*cols+cols-1])
	}
	return p, nil
}
