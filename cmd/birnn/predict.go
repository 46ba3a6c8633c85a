package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/score"
)

type predictFlags struct {
	model, wordIndex, file string
	input                  string
	texts                  []string
	ids                    bool
	batch                  int
	threshold              float64
}

func newPredictCmd() *cobra.Command {
	var f predictFlags
	cmd := &cobra.Command{
		Use:   "predict --model MODEL.onnx [--text REVIEW]... [--file FILE]",
		Short: "Score reviews with an ONNX sentiment model, one JSON line per review",
		Long: long(`
			Score movie reviews with a sentiment model exported by birnn or by Keras/tf2onnx.
			Reviews come from --text (repeatable), then --file (one per line), or else from
			stdin (one per line). Each gets a line in input order: {"score":P(positive),"label":...}
			for a binary model (sigmoid, or a softmax of two classes), and for a wider softmax
			head {"label":...,"class":k,"probabilities":{label:P,...}} with the argmax class. Labels
			are the class names the training data had (a folder per class, data.labels), which the
			model records in birnn.labels, else positive/negative (binary) or the class number. Text is encoded like keras.datasets.imdb (word index, num_words, maxlen,
			padding from the model's birnn.* metadata, else the study's 4000/100/post/pre/3).
			With --ids each review is a line of space-separated token ids instead of text.

			Blank lines (and blank --text values) are not reviews: they are skipped, so the output
			has one line per non-blank review, and the number skipped is reported on stderr.
			A review is positive when its score is above --threshold (a score equal to it is
			negative: Keras's binary_accuracy rule). With the study's post-padding, a review of one
			or two words ("good", "Great film") is read with ~98 padding steps after it, which the
			study's models were not trained to ignore, so such reviews score near 0 whatever they say.`),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.wordIndex == "" && !f.ids {
				f.wordIndex = defaultWordIndex(dataDir(cmd))
			}
			return runPredict(cmd.Context(), f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "", "ONNX model to score with (required)")
	fl.StringVar(&f.wordIndex, "word-index", "", "Keras word index JSON (default: <data dir>/imdb_word_index.json)")
	fl.StringArrayVar(&f.texts, "text", nil, "a review to score (repeatable)")
	fl.StringVar(&f.file, "file", "", "file with one review per line")
	fl.BoolVar(&f.ids, "ids", false, "reviews are space-separated token ids, not text")
	fl.IntVar(&f.batch, "batch", score.DefaultBatchSize, "reviews per model run")
	fl.StringVar(&f.input, "input", "", "the model input that takes the word ids (default: the model's only input)")
	fl.Float64Var(&f.threshold, "threshold", model.DefaultThreshold, "scores above it are labelled positive (a score equal to it is negative)")
	return cmd
}

// defaultWordIndex is imdb_word_index.json in the data folder, or in its
// imdb/ subfolder where `birnn data` puts it.
func defaultWordIndex(dir string) string {
	p := filepath.Join(dir, dataset.WordIndexName)
	if _, err := os.Stat(p); err != nil {
		if q := filepath.Join(dir, "imdb", dataset.WordIndexName); fileExists(q) {
			return q
		}
	}
	return p
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// prediction is one output line: a binary model's (sigmoid, or softmax of
// two) P(class 1) and its label under the threshold; a wider softmax
// head's argmax label, its class number and every class's probability.
type prediction struct {
	Score         *float32          `json:"score,omitempty"`
	Label         string            `json:"label"`
	Class         *int              `json:"class,omitempty"`
	Probabilities *score.ClassProbs `json:"probabilities,omitempty"`
}

// predictionOf is r's output line under threshold.
func predictionOf(sc *score.Scorer, r score.Result, threshold float64) prediction {
	if len(r.Probs) == 2 {
		p, k := r.Probs[1], 0
		if model.Positive(float64(p), threshold) {
			k = 1
		}
		return prediction{Score: &p, Label: sc.Label(k, 2)}
	}
	probs := sc.Probabilities(r)
	return prediction{Label: sc.Label(r.Class, len(r.Probs)), Class: &r.Class, Probabilities: &probs}
}

func runPredict(ctx context.Context, f predictFlags, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case f.model == "":
		return usagef("predict: --model is required")
	case f.batch <= 0:
		return usagef("predict: --batch must be positive, got %d", f.batch)
	case !(f.threshold >= 0 && f.threshold <= 1):
		return usagef("predict: --threshold must be in [0, 1], got %v", f.threshold)
	}
	sess, err := infer.Load(f.model)
	if err != nil {
		return err
	}
	var wi dataset.WordIndex
	// A model trained on a text source tokenizes with its own vocabulary.
	if _, own := sess.Metadata().Props[model.MetaVocabulary]; !f.ids && !own {
		if wi, err = dataset.LoadWordIndex(f.wordIndex); err != nil {
			return fmt.Errorf("predict: word index: %w (set --word-index or --data)", err)
		}
	}
	sc, err := score.New(sess, wi, score.Options{BatchSize: f.batch, Input: f.input})
	var ce *score.InputChoiceError
	if errors.As(err, &ce) {
		return usagef("predict: %s has %d inputs (%s); name the one that takes the word ids with --input NAME",
			f.model, len(ce.Inputs), strings.Join(ce.Inputs, ", "))
	}
	if err != nil {
		return fmt.Errorf("predict: %s: %w", f.model, err)
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	var pending []string
	var first int // input number of pending[0], for error messages
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		var res []score.Result
		if f.ids {
			rows := make([][]int32, len(pending))
			for i, line := range pending {
				if rows[i], err = parseIDs(line); err != nil {
					return fmt.Errorf("predict: review %d: %w", first+i+1, err)
				}
			}
			res, err = sc.ClassifyIDs(ctx, rows)
		} else {
			res, err = sc.Classify(ctx, pending)
		}
		if err != nil {
			return err
		}
		for _, r := range res {
			if err := enc.Encode(predictionOf(sc, r, f.threshold)); err != nil {
				return err
			}
		}
		first += len(pending)
		pending = pending[:0]
		return out.Flush()
	}
	blank := 0
	add := func(r string) error {
		if strings.TrimSpace(r) == "" {
			blank++
			return nil
		}
		pending = append(pending, r)
		if len(pending) == f.batch {
			return flush()
		}
		return nil
	}
	for _, t := range f.texts {
		if err := add(t); err != nil {
			return err
		}
	}
	var src io.Reader
	switch {
	case f.file != "":
		fh, err := os.Open(f.file)
		if err != nil {
			return fmt.Errorf("predict: %w", err)
		}
		defer fh.Close()
		src = fh
	case len(f.texts) == 0:
		src = stdin
	}
	if src != nil {
		sc := bufio.NewScanner(src)
		sc.Buffer(make([]byte, 64*1024), 64<<20)
		for sc.Scan() {
			if err := add(strings.TrimSuffix(sc.Text(), "\r")); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("predict: reading reviews: %w", err)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if blank > 0 {
		fmt.Fprintf(stderr, "predict: skipped %d blank %s (not reviews)\n", blank, plural(blank, "line", "lines"))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// parseIDs reads a line of space-separated non-negative token ids.
func parseIDs(line string) ([]int32, error) {
	fields := strings.Fields(line)
	ids := make([]int32, len(fields))
	for i, s := range fields {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("token %d: %q is not a non-negative int32 id", i+1, s)
		}
		ids[i] = int32(v)
	}
	return ids, nil
}
