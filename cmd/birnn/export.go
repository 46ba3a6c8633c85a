package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnx"
	"github.com/spf13/cobra"
)

func init() { rootCmd.AddCommand(newExportCmd()) }

// Checkpoint State keys that carry export metadata through birnn import.
const (
	stateTestMetrics = "test_metrics"      // JSON object of numbers
	stateWordIndex   = "word_index_sha256" // hex SHA-256 of the word index
)

func newExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export --checkpoint FILE --out MODEL.onnx [--opset 15] [--input-dtype int32|float32]",
		Short: "Write a checkpoint's model as an ONNX file",
		Long: "Export a checkpoint as ONNX with the structure tf2onnx gives the same Keras model:\n" +
			"input_ids [batch, sequence] (int32, or float32 like Keras exports) → Gather → LSTM\n" +
			"nodes → MatMul + Add → activation → probability [batch, units].\n\n" +
			"The metadata records the data settings (num_words, maxlen, padding, …), the config,\n" +
			"the test metrics (--metrics, else those carried by an imported checkpoint, else\n" +
			"metrics.json beside the checkpoint) and the SHA-256 of the word index (--word-index,\n" +
			"else the one recorded in the checkpoint, else imdb_word_index.json in the data folder).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ckPath, _ := cmd.Flags().GetString("checkpoint")
			out, _ := cmd.Flags().GetString("out")
			opset, _ := cmd.Flags().GetInt("opset")
			dtype, _ := cmd.Flags().GetString("input-dtype")
			metricsPath, _ := cmd.Flags().GetString("metrics")
			wordIndex, _ := cmd.Flags().GetString("word-index")
			switch {
			case ckPath == "":
				return usagef("export needs --checkpoint FILE")
			case out == "":
				return usagef("export needs --out MODEL.onnx")
			case opset < export.MinOpset || opset > export.MaxOpset:
				return usagef("--opset %d: want %d to %d", opset, export.MinOpset, export.MaxOpset)
			case dtype != "int32" && dtype != "float32":
				return usagef("--input-dtype %q: want int32 or float32", dtype)
			}
			ck, err := exportCheckpoint(cmd, ckPath, out, export.Options{Opset: opset, InputDType: dtype, Version: version}, metricsPath, wordIndex)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s, opset %d, %s input, %d parameters\n",
				out, ck.Model.Config.Name, opset, dtype, ck.Model.NumParams())
			return nil
		},
	}
	cmd.Flags().String("checkpoint", "", "checkpoint file (from birnn train or birnn import)")
	cmd.Flags().String("out", "", "ONNX file to write")
	cmd.Flags().Int("opset", export.DefaultOpset, fmt.Sprintf("ai.onnx opset, %d to %d", export.MinOpset, export.MaxOpset))
	cmd.Flags().String("input-dtype", "int32", "input_ids element type: int32, or float32 as Keras exports take")
	cmd.Flags().String("metrics", "", "test metrics JSON to record (default: the checkpoint's, or metrics.json beside it)")
	cmd.Flags().String("word-index", "", "word index file whose SHA-256 to record (default: the checkpoint's, or the data folder's)")
	return cmd
}

// exportCheckpoint writes the checkpoint at ckPath as ONNX to out (atomically),
// recording its test metrics and word-index hash (see testMetrics and
// wordIndexSHA for where they come from) in opts.
func exportCheckpoint(cmd *cobra.Command, ckPath, out string, opts export.Options, metricsPath, wordIndex string) (*model.Checkpoint, error) {
	ck, err := model.LoadCheckpoint(ckPath)
	if err != nil {
		return nil, err
	}
	if opts.TestMetrics, err = testMetrics(ck, ckPath, metricsPath); err != nil {
		return nil, err
	}
	if opts.WordIndexSHA256, err = wordIndexSHA(cmd, ck, wordIndex); err != nil {
		return nil, err
	}
	mp, err := export.Model(ck.Model, opts)
	if err != nil {
		return nil, err
	}
	return ck, onnx.WriteModel(out, mp)
}

// testMetrics reads the metrics to record: the --metrics file, else the
// checkpoint's State, else metrics.json beside the checkpoint; nil if none.
func testMetrics(ck *model.Checkpoint, ckPath, flag string) (map[string]float64, error) {
	if flag == "" {
		if s := ck.State[stateTestMetrics]; s != "" {
			return numbers([]byte(s), "checkpoint state "+stateTestMetrics)
		}
		p := filepath.Join(filepath.Dir(ckPath), "metrics.json")
		if _, err := os.Stat(p); err != nil {
			return nil, nil
		}
		flag = p
	}
	b, err := os.ReadFile(flag)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return numbers(b, flag)
}

// numbers keeps the numeric fields of a JSON object (loss, accuracy, n).
func numbers(b []byte, what string) (map[string]float64, error) {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %w", what, err)
	}
	out := map[string]float64{}
	for k, v := range raw {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// wordIndexSHA is the SHA-256 of the --word-index file, else the one the
// checkpoint records, else that of the data folder's word index; "" if
// none is found.
func wordIndexSHA(cmd *cobra.Command, ck *model.Checkpoint, flag string) (string, error) {
	if flag == "" {
		if s := ck.State[stateWordIndex]; s != "" {
			return s, nil
		}
		dir := runDataDir(cmd, ck.Model.Config)
		for _, p := range []string{filepath.Join(dir, dataset.WordIndexName), filepath.Join(dir, "imdb", dataset.WordIndexName)} {
			if _, err := os.Stat(p); err == nil {
				flag = p
				break
			}
		}
		if flag == "" {
			return "", nil
		}
	}
	f, err := os.Open(flag)
	if err != nil {
		return "", fmt.Errorf("word index: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("word index: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
