package score

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/model"
)

// The study's encoding, used when neither Options nor the model's metadata
// say otherwise.
const (
	DefaultNumWords   = 4000
	DefaultMaxLen     = 100
	DefaultPadding    = dataset.Post
	DefaultTruncating = dataset.Pre
	DefaultIndexFrom  = 3
	DefaultBatchSize  = 64
)

// ErrNotClassifier is matched (errors.Is) by errors about a model a Scorer
// cannot drive: its input or output is not that of a sentiment classifier.
var ErrNotClassifier = errors.New("score: model is not a sentiment classifier")

// InputChoiceError reports a model with several inputs and no Options.Input
// saying which one takes the word ids. It matches ErrNotClassifier.
type InputChoiceError struct {
	Inputs []string // the model's input names
}

func (e *InputChoiceError) Error() string {
	return fmt.Sprintf("score: the model has %d inputs (%s); say which one takes the word ids", len(e.Inputs), strings.Join(e.Inputs, ", "))
}

// Unwrap makes errors.Is(err, ErrNotClassifier) true.
func (e *InputChoiceError) Unwrap() error { return ErrNotClassifier }

// Options set how a Scorer encodes text. A zero field is taken from the
// model's metadata_props (the model.Meta* keys) and else from the study's
// defaults (DefaultNumWords, …); MaxLen also falls back to a fixed
// sequence dimension of the model's input before DefaultMaxLen.
type Options struct {
	NumWords   int    // ids ≥ NumWords become the out-of-vocabulary id 2
	MaxLen     int    // padded length of every row
	Padding    string // "pre" or "post": where short rows get zeros
	Truncating string // "pre" or "post": which end of long rows is cut
	IndexFrom  int    // added to word ranks; reserved ids 0 pad, 1 start, 2 OOV
	BatchSize  int    // rows per Session.Run; default 64
	Input      string // input name; default: the model's only input
	Output     string // output name; default: the model's first output
}

// Scorer turns raw reviews into P(positive) with an infer.Session. It is
// safe for concurrent use.
//
//	text ─dataset tokenizer→ ids ─pad/truncate→ [batch, maxlen] ─Run→
//	[batch, 1] sigmoid (or [batch, 2] softmax, column 1) → scores
type Scorer struct {
	sess    *infer.Session
	wi      dataset.WordIndex
	vocab   *dataset.Vocabulary // the model's own (birnn.vocabulary); wins over wi
	classes []string            // the model's class names (birnn.labels), or nil
	opts    Options
	in      infer.ValueInfo
}

// Result is one review's prediction. Probs are the class probabilities by
// label: [1 − p, p] for a sigmoid head of output p, the softmax row for a
// softmax head. Class is the predicted label: the argmax of Probs (the
// first on a tie, so a sigmoid output of exactly 0.5 is class 0, Keras's
// binary_accuracy rule).
type Result struct {
	Class int
	Probs []float32
}

// ErrMultiClass is matched by Score and ScoreIDs errors on a model whose
// head has more than two classes: there is no P(positive) to give, and
// Classify reports the class and its probabilities instead.
var ErrMultiClass = errors.New("score: the model has more than two classes")

// New prepares a Scorer for sess. wi may be nil when only ScoreIDs is used.
//
// Errors (matching ErrNotClassifier): the model has several inputs and
// opts.Input names none (*InputChoiceError), Input names no input, or the
// model needs inputs besides the ids (the engine runs only fully fed
// graphs, and a scorer has nothing to feed them); the input is not [batch, seq] of FLOAT, DOUBLE, INT32 or INT64; Output names
// no output; a fixed sequence dim disagrees with MaxLen. Plain errors for
// malformed metadata or option values.
func New(sess *infer.Session, wi dataset.WordIndex, opts Options) (*Scorer, error) {
	if sess == nil {
		return nil, errors.New("score: New: nil session")
	}
	o, err := resolveOptions(sess, opts)
	if err != nil {
		return nil, err
	}
	s := &Scorer{sess: sess, wi: wi, opts: o}
	if js, ok := sess.Metadata().Props[model.MetaVocabulary]; ok {
		if s.vocab, err = dataset.ParseVocabulary([]byte(js)); err != nil {
			return nil, fmt.Errorf("score: model metadata %s: %w", model.MetaVocabulary, err)
		}
	}
	if js, ok := sess.Metadata().Props[model.MetaLabels]; ok {
		if err := json.Unmarshal([]byte(js), &s.classes); err != nil {
			return nil, fmt.Errorf("score: model metadata %s = %q: want a JSON array of class names", model.MetaLabels, js)
		}
	}
	if err := s.pickInput(); err != nil {
		return nil, err
	}
	if err := s.pickOutput(); err != nil {
		return nil, err
	}
	return s, nil
}

// pickInput finds the input the ids go to and checks its type and shape.
func (s *Scorer) pickInput() error {
	ins := s.sess.Inputs()
	switch {
	case s.opts.Input != "":
		found := false
		for _, v := range ins {
			if v.Name == s.opts.Input {
				s.in, found = v, true
			}
		}
		if !found {
			return fmt.Errorf("%w: no input named %q (it has %s)", ErrNotClassifier, s.opts.Input, strings.Join(names(ins), ", "))
		}
	case len(ins) == 1:
		s.in = ins[0]
		s.opts.Input = ins[0].Name
	default:
		return &InputChoiceError{Inputs: names(ins)}
	}
	var others []string
	for _, v := range ins {
		if v.Name != s.in.Name {
			others = append(others, v.Name)
		}
	}
	if len(others) > 0 {
		return fmt.Errorf("%w: besides %s the model needs input %s, which a scorer has no values for", ErrNotClassifier, s.in.Name, strings.Join(others, ", "))
	}
	switch s.in.DType {
	case infer.Float, infer.Double, infer.Int32, infer.Int64:
	default:
		return fmt.Errorf("%w: input %s: want FLOAT, DOUBLE, INT32 or INT64 ids", ErrNotClassifier, s.in)
	}
	if s.in.Dims != nil {
		if len(s.in.Dims) != 2 {
			return fmt.Errorf("%w: input %s is not [batch, seq]", ErrNotClassifier, s.in)
		}
		if d := s.in.Dims[1]; d.Value >= 0 && int(d.Value) != s.opts.MaxLen {
			return fmt.Errorf("%w: input %s has %d steps, but maxlen is %d", ErrNotClassifier, s.in, d.Value, s.opts.MaxLen)
		}
	}
	return nil
}

// pickOutput settles the output the scores come from.
func (s *Scorer) pickOutput() error {
	outs := s.sess.Outputs()
	if s.opts.Output == "" {
		if len(outs) == 0 {
			return fmt.Errorf("%w: it has no outputs", ErrNotClassifier)
		}
		s.opts.Output = outs[0].Name
		return nil
	}
	for _, v := range outs {
		if v.Name == s.opts.Output {
			return nil
		}
	}
	return fmt.Errorf("%w: no output named %q (it has %s)", ErrNotClassifier, s.opts.Output, strings.Join(names(outs), ", "))
}

func names(vs []infer.ValueInfo) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

func resolveOptions(sess *infer.Session, o Options) (Options, error) {
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
			return fmt.Errorf("score: model metadata %s = %q is not an integer", key, v)
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
	if err := metaInt(model.MetaNumWords, &o.NumWords, DefaultNumWords); err != nil {
		return o, err
	}
	if err := metaInt(model.MetaMaxLen, &o.MaxLen, maxLenDef); err != nil {
		return o, err
	}
	if err := metaInt(model.MetaIndexFrom, &o.IndexFrom, DefaultIndexFrom); err != nil {
		return o, err
	}
	metaStr(model.MetaPadding, &o.Padding, DefaultPadding)
	metaStr(model.MetaTruncating, &o.Truncating, DefaultTruncating)
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	switch {
	case o.NumWords < 3:
		return o, fmt.Errorf("score: num_words %d must be at least 3 (ids 0–2 are reserved)", o.NumWords)
	case o.MaxLen <= 0:
		return o, fmt.Errorf("score: maxlen %d must be positive", o.MaxLen)
	case o.IndexFrom < 0:
		return o, fmt.Errorf("score: index_from %d is negative", o.IndexFrom)
	case o.BatchSize < 0:
		return o, fmt.Errorf("score: batch size %d is negative", o.BatchSize)
	case o.Padding != dataset.Pre && o.Padding != dataset.Post:
		return o, fmt.Errorf("score: padding %q must be %q or %q", o.Padding, dataset.Pre, dataset.Post)
	case o.Truncating != dataset.Pre && o.Truncating != dataset.Post:
		return o, fmt.Errorf("score: truncating %q must be %q or %q", o.Truncating, dataset.Pre, dataset.Post)
	}
	return o, nil
}

// Options returns the resolved options: every field set.
func (s *Scorer) Options() Options { return s.opts }

// Session is the engine session the Scorer runs.
func (s *Scorer) Session() *infer.Session { return s.sess }

// Encode turns a review into ids. A model trained on a text source carries
// its vocabulary (birnn.vocabulary) and is given the ids of that
// vocabulary's Tokenizer (dataset.Vocabulary.Encode), whatever word index
// the Scorer was made with. Else the word index is used as
// keras.datasets.imdb.load_data does: start id 1, word ranks + IndexFrom,
// ids ≥ NumWords replaced by 2, words missing from the index dropped.
// Errors: neither a vocabulary nor a word index.
func (s *Scorer) Encode(text string) ([]int32, error) {
	if s.vocab != nil {
		return s.vocab.Encode(text), nil
	}
	if s.wi == nil {
		return nil, errors.New("score: scorer has no word index")
	}
	return s.wi.Encode(text, dataset.EncodeOptions{
		NumWords: s.opts.NumWords, StartChar: model.StartChar, OOVChar: model.OOVChar, IndexFrom: s.opts.IndexFrom,
	}), nil
}

// Classes are the model's class names by label (birnn.labels, written
// for data with named labels: a folder per class, a label mapping), or
// nil when the model records none.
func (s *Scorer) Classes() []string { return s.classes }

// Label names class k: the model's class name when it has one, else
// "negative"/"positive" for a two-class model (model.LabelNegative,
// model.LabelPositive), else k in decimal.
func (s *Scorer) Label(k, classes int) string {
	switch {
	case k >= 0 && k < len(s.classes) && s.classes[k] != "":
		return s.classes[k]
	case classes == 2 && k == 1:
		return model.LabelPositive
	case classes == 2 && k == 0:
		return model.LabelNegative
	}
	return strconv.Itoa(k)
}

// Classify returns each review's class and class probabilities, in order.
// Errors: those of Encode and ClassifyIDs.
func (s *Scorer) Classify(ctx context.Context, texts []string) ([]Result, error) {
	ids, err := s.encodeAll(texts)
	if err != nil {
		return nil, err
	}
	return s.ClassifyIDs(ctx, ids)
}

func (s *Scorer) encodeAll(texts []string) ([][]int32, error) {
	ids := make([][]int32, len(texts))
	for i, t := range texts {
		var err error
		if ids[i], err = s.Encode(t); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// ClassifyIDs is Classify of rows of token ids (see ScoreIDs). Errors:
// those of ScoreIDs, save that a head of any width k ≥ 1 is accepted
// ([batch, 1] sigmoid or [batch, k] softmax).
func (s *Scorer) ClassifyIDs(ctx context.Context, ids [][]int32) ([]Result, error) {
	out := make([]Result, 0, len(ids))
	err := s.runRows(ctx, ids, true, func(vals []float64, rows, cols int) {
		for i := range rows {
			r := Result{Probs: make([]float32, max(cols, 2))}
			if cols == 1 {
				p := float32(vals[i])
				r.Probs[0], r.Probs[1] = 1-p, p
			} else {
				for j := range cols {
					r.Probs[j] = float32(vals[i*cols+j])
				}
			}
			for j, p := range r.Probs {
				if p > r.Probs[r.Class] {
					r.Class = j
				}
			}
			out = append(out, r)
		}
	})
	return out, err
}

// Score returns P(positive) for each review, in order. Errors: no word
// index, and those of ScoreIDs.
//
// With post-padding (the study's recipe) a very short review such as
// "good" or "Great film" is followed by up to maxlen−2 padding steps,
// which the LSTM reads after the words (the study's models have no
// masking), so its score drifts toward what the model gives an empty
// review — near 0 for the study's runs. Longer reviews are not affected
// this way.
func (s *Scorer) Score(ctx context.Context, texts []string) ([]float32, error) {
	ids, err := s.encodeAll(texts)
	if err != nil {
		return nil, err
	}
	return s.ScoreIDs(ctx, ids)
}

// ScoreIDs returns P(positive) for each row of token ids, in order. Rows
// are padded and truncated to MaxLen and ids ≥ NumWords become 2, as for
// training data. Rows of any length are accepted, including empty ones.
//
// Errors: a negative id; ctx.Err(); a run failure; an output that is
// not [batch, k] floats; a head of k > 2 classes (ErrMultiClass).
func (s *Scorer) ScoreIDs(ctx context.Context, ids [][]int32) ([]float32, error) {
	out := make([]float32, 0, len(ids))
	err := s.runRows(ctx, ids, false, func(vals []float64, rows, cols int) {
		for i := range rows {
			out = append(out, float32(vals[i*cols+cols-1]))
		}
	})
	var me *multiClass
	if errors.As(err, &me) {
		return nil, fmt.Errorf("%w: output %q has %d columns; classify the reviews instead", ErrMultiClass, s.opts.Output, me.cols)
	}
	return out, err
}

// multiClass stops runRows for ScoreIDs at a head of more than 2 columns.
type multiClass struct{ cols int }

func (e *multiClass) Error() string { return fmt.Sprintf("%d classes", e.cols) }

// runRows pads ids into batches, runs them and hands each batch's output
// [rows, cols] to use, in order; without wide, a head of more than 2
// columns is a *multiClass error.
func (s *Scorer) runRows(ctx context.Context, ids [][]int32, wide bool, use func(vals []float64, rows, cols int)) error {
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
					return fmt.Errorf("score: row %d: negative token id %d", lo+i, v)
				case int(v) >= s.opts.NumWords:
					v = model.OOVChar
				}
				row[j] = v
			}
			rows[i] = row
		}
		m, err := dataset.PadSequences(rows, s.opts.MaxLen, s.opts.Padding, s.opts.Truncating, 0)
		if err != nil {
			return fmt.Errorf("score: %w", err)
		}
		vals, cols, err := s.run(ctx, m)
		if err != nil {
			return err
		}
		if cols > 2 && !wide {
			return &multiClass{cols}
		}
		use(vals, m.Rows, cols)
	}
	return nil
}

// IDs is ids, of the given shape, as a tensor of in's element type: the
// word ids as a model input of FLOAT, DOUBLE, INT32 or INT64 takes them
// (Keras exports take floats). Errors: any other type.
func IDs(in infer.ValueInfo, shape []int, ids []int32) (*infer.Tensor, error) {
	switch in.DType {
	case infer.Float:
		return infer.NewFloat32(shape, convert[float32](ids)), nil
	case infer.Double:
		return infer.NewFloat64(shape, convert[float64](ids)), nil
	case infer.Int64:
		return infer.NewInt64(shape, convert[int64](ids)), nil
	case infer.Int32:
		return infer.NewInt32(shape, ids), nil
	}
	return nil, fmt.Errorf("%w: input %s does not take ids", ErrNotClassifier, in)
}

// run runs one padded batch and returns its output [rows, cols].
func (s *Scorer) run(ctx context.Context, m dataset.Matrix) ([]float64, int, error) {
	in, err := IDs(s.in, []int{m.Rows, m.Cols}, m.Data)
	if err != nil {
		return nil, 0, err
	}
	res, err := s.sess.Run(ctx, map[string]*infer.Tensor{s.opts.Input: in})
	if err != nil {
		return nil, 0, err
	}
	y := res[s.opts.Output]
	var vals []float64
	switch d := y.Data.(type) {
	case []float32:
		vals = convert32(d)
	case []float64:
		vals = d
	default:
		return nil, 0, fmt.Errorf("%w: output %q is %s, want floats", ErrNotClassifier, s.opts.Output, y)
	}
	switch {
	case len(y.Shape) == 2 && y.Shape[0] == m.Rows && y.Shape[1] >= 1:
		return vals, y.Shape[1], nil
	case len(y.Shape) == 1 && y.Shape[0] == m.Rows:
		return vals, 1, nil
	}
	return nil, 0, fmt.Errorf("%w: output %q has shape %v for %d rows, want [%d, classes]",
		ErrNotClassifier, s.opts.Output, y.Shape, m.Rows, m.Rows)
}

func convert[D float32 | float64 | int64](ids []int32) []D {
	out := make([]D, len(ids))
	for i, v := range ids {
		out[i] = D(v)
	}
	return out
}

func convert32(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// ClassProbs are one review's class probabilities as JSON: an object of
// class label → probability, in class order (a Go map would sort them).
type ClassProbs struct {
	Labels []string
	Probs  []float32
}

// Probabilities labels r's probabilities with s.Label.
func (s *Scorer) Probabilities(r Result) ClassProbs {
	c := ClassProbs{Labels: make([]string, len(r.Probs)), Probs: r.Probs}
	for k := range r.Probs {
		c.Labels[k] = s.Label(k, len(r.Probs))
	}
	return c
}

// MarshalJSON implements json.Marshaler.
func (c ClassProbs) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for k, p := range c.Probs {
		if k > 0 {
			b = append(b, ',')
		}
		name, err := json.Marshal(c.Labels[k])
		if err != nil {
			return nil, err
		}
		b = append(append(b, name...), ':')
		b = strconv.AppendFloat(b, float64(p), 'g', -1, 32)
	}
	return append(b, '}'), nil
}
