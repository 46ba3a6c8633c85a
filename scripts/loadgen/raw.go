package main

import (
	"context"
	"fmt"
	"time"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/score"
)

// rawScorer scores request bodies straight through the engine: the
// ceiling the served throughput is compared with.
type rawScorer struct {
	sc    *score.Scorer
	batch int
}

func newRawScorer(model, wordIndex string, batch int) (*rawScorer, error) {
	sess, err := infer.Load(model)
	if err != nil {
		return nil, fmt.Errorf("-raw-model: %w", err)
	}
	var wi dataset.WordIndex
	if wordIndex != "" {
		if wi, err = dataset.LoadWordIndex(wordIndex); err != nil {
			return nil, fmt.Errorf("-word-index: %w", err)
		}
	}
	sc, err := score.New(sess, wi, score.Options{BatchSize: batch})
	if err != nil {
		return nil, fmt.Errorf("-raw-model: %w", err)
	}
	return &rawScorer{sc: sc, batch: batch}, nil
}

// score runs n reviews (texts, or ids rows when there are no texts) taken
// in turn, in batches of r.batch, for at most limit; it returns the rows
// scored and the time taken.
func (r *rawScorer) score(texts []string, ids [][]int32, n int, limit time.Duration) (int, time.Duration, error) {
	ctx := context.Background()
	start := time.Now()
	done := 0
	for done < n && time.Since(start) < limit {
		k := min(r.batch, n-done)
		var err error
		if len(texts) > 0 {
			batch := make([]string, k)
			for i := range batch {
				batch[i] = texts[(done+i)%len(texts)]
			}
			_, err = r.sc.Score(ctx, batch)
		} else {
			batch := make([][]int32, k)
			for i := range batch {
				batch[i] = ids[(done+i)%len(ids)]
			}
			_, err = r.sc.ScoreIDs(ctx, batch)
		}
		if err != nil {
			return done, time.Since(start), err
		}
		done += k
	}
	return done, time.Since(start), nil
}
