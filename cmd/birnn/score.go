package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/spf13/cobra"

	"github.com/birnn/birnn/bulk"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/score"
)

func init() {
	// A portable runner starts this binary as its SDK worker, with Beam's
	// own flags (--worker, --id, endpoints): those go to Beam, which runs
	// the harness and exits.
	if slices.ContainsFunc(os.Args[1:], func(a string) bool { return a == "--worker" || strings.HasPrefix(a, "--worker=") }) {
		flag.Parse()
		beam.Init()
	}
	rootCmd.AddCommand(newScoreCmd())
}

type scoreFlags struct {
	bulk.Options
	runner, endpoint string
	beamOpts         []string
}

func newScoreCmd() *cobra.Command {
	var f scoreFlags
	cmd := &cobra.Command{
		Use:   "score --model MODEL.onnx --input GLOB --output PREFIX",
		Short: "Score stored reviews in bulk with an Apache Beam pipeline (Prism in-process by default)",
		Long: long(`
			Score every line of the files matching --input with an Apache Beam pipeline and write
			JSON lines {"id","score","label"} to PREFIX-SSSSS-of-NNNNN.jsonl (--shards files).
			A line is a JSON object {"id": string or number, "text": review} or a plain review
			(--format auto takes lines starting with '{' as JSON); a plain line's id is
			"<file>:<line>". Lines that cannot be scored (malformed JSON, a blank review, a line
			over 4 MiB) go to PREFIX-deadletter-00000-of-00001.jsonl with their file, line number
			and reason; the job does not fail on them. Scores equal birnn predict's.

			The model is loaded once per worker; reviews are scored in batches of --batch within
			a bundle. --runner prism (the default) runs in-process, no Docker or Java needed;
			flink, spark and universal submit to the job service at --endpoint, and --beam-opt
			k=v sets Beam's own options (environment_type, environment_config, job_name, ...).`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case f.Model == "":
				return usagef("score: --model is required")
			case f.Input == "" || f.Output == "":
				return usagef("score: --input GLOB and --output PREFIX are required")
			case f.BatchSize <= 0 || f.Shards <= 0:
				return usagef("score: --batch and --shards must be positive")
			case !(f.Threshold > 0 && f.Threshold < 1):
				return usagef("score: --threshold must be in (0, 1), got %v", f.Threshold)
			}
			if f.WordIndex == "" {
				f.WordIndex = defaultWordIndex(dataDir(cmd))
			}
			ro := bulk.RunOptions{Runner: f.runner, Endpoint: f.endpoint, Beam: map[string]string{}}
			for _, kv := range f.beamOpts {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return usagef("score: --beam-opt %q: want key=value", kv)
				}
				ro.Beam[k] = v
			}
			start := time.Now()
			if err := bulk.Run(cmd.Context(), f.Options, ro); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "score: done in %s; results %s-*-of-%05d.jsonl, dead letters %s-deadletter-00000-of-00001.jsonl\n",
				time.Since(start).Round(time.Millisecond), f.Output, f.Shards, f.Output)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Model, "model", "", "ONNX model to score with (required)")
	fl.StringVar(&f.WordIndex, "word-index", "", "Keras word index JSON (default: <data dir>/imdb_word_index.json)")
	fl.StringVar(&f.Input, "input", "", "glob of the input files (required; .gz files are read decompressed)")
	fl.StringVar(&f.Output, "output", "", "prefix of the output files (required)")
	fl.StringVar(&f.Format, "format", bulk.FormatAuto, "input lines: auto, jsonl or text")
	fl.IntVar(&f.BatchSize, "batch", score.DefaultBatchSize, "reviews per model run")
	fl.IntVar(&f.Shards, "shards", 1, "output files")
	fl.Float64Var(&f.Threshold, "threshold", model.DefaultThreshold, "scores above it are labelled positive")
	fl.StringVar(&f.ModelIn, "model-input", "", "the model input that takes the word ids (default: its only input)")
	fl.BoolVar(&f.Reshuffle, "reshuffle", false, "spread each file's lines over the workers before scoring (cluster runners, few large files)")
	fl.StringVar(&f.runner, "runner", "prism", "Beam runner: "+strings.Join(bulk.Runners, ", "))
	fl.StringVar(&f.endpoint, "endpoint", "", "job service host:port of a portable runner")
	fl.StringArrayVar(&f.beamOpts, "beam-opt", nil, "a Beam pipeline option key=value (repeatable)")
	return cmd
}
