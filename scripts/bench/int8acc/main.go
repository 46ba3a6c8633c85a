// Command int8acc measures what int8 quantization costs in accuracy: it
// scores the IMDB test split (25,000 reviews, loaded and padded as the study
// does: num_words 4000, maxlen 100, padding post, truncating pre) with
// Keras's study exports in testdata/keras, float32 and after
// quantize.Dynamic, in birnn's engine — and, with -ort, in ONNX Runtime
// (full-range and 7-bit weights) — and prints a markdown table.
//
//	go run ./scripts/bench/int8acc [-data DIR] [-models deep_bilstm,bilstm] [-limit N] [-ort]
//
// -ort needs ONNX Runtime's library in $ONNXRUNTIME_LIB
// (scripts/ort/fetch.sh prints its path).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/quantize"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "int8acc:", err)
		os.Exit(1)
	}
}

func run() error {
	data := flag.String("data", defaultData(), "data folder (holds imdb/)")
	models := flag.String("models", "deep_lstm,bilstm,deep_bilstm,deep_bilstm_rmsprop_dropout,deep_bilstm_adam_dropout", "testdata/keras folders")
	limit := flag.Int("limit", 0, "score only the first N test reviews (0: all)")
	withORT := flag.Bool("ort", false, "also score in ONNX Runtime ($ONNXRUNTIME_LIB)")
	batch := flag.Int("batch", 250, "reviews per run")
	flag.Parse()

	opts := dataset.DefaultLoadOptions()
	opts.NumWords = 4000
	_, test, err := dataset.LoadData(filepath.Join(*data, "imdb"), opts)
	if err != nil {
		return err
	}
	x, err := dataset.PadSequences(test.X, 100, "post", "pre", 0)
	if err != nil {
		return err
	}
	n := test.Len()
	if *limit > 0 {
		n = min(n, *limit)
	}
	if *withORT {
		lib := os.Getenv("ONNXRUNTIME_LIB")
		if lib == "" {
			return errors.New("-ort needs $ONNXRUNTIME_LIB (scripts/ort/fetch.sh prints it)")
		}
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			return err
		}
		defer ort.DestroyEnvironment()
	}
	fmt.Printf("IMDB test split, first %d of %d reviews (num_words 4000, maxlen 100, padding post); accuracy at 0.5.\n\n", n, test.Len())
	head := "| model | Keras float32 (its own run) | birnn float32 | birnn int8 | int8 − float32 |"
	if *withORT {
		head += " ONNX Runtime int8 | ONNX Runtime int8, 7-bit weights |"
	}
	fmt.Println(head)
	fmt.Println(strings.Repeat("|---", strings.Count(head, "|")-1) + "|")
	for _, name := range strings.Split(*models, ",") {
		path := filepath.Join("testdata", "keras", name, "model.onnx")
		m, err := onnx.ReadModel(path)
		if err != nil {
			return err
		}
		q, _, err := quantize.Dynamic(m, quantize.Options{})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		start := time.Now()
		accF, err := engineAccuracy(m, x, test.Y, n, *batch)
		if err != nil {
			return fmt.Errorf("%s float32: %w", name, err)
		}
		accQ, err := engineAccuracy(q, x, test.Y, n, *batch)
		if err != nil {
			return fmt.Errorf("%s int8: %w", name, err)
		}
		keras := kerasAccuracy(filepath.Join("testdata", "keras", name, "metrics.json"))
		line := fmt.Sprintf("| %s | %s | %.4f | %.4f | %+.2f points |", name, keras, accF, accQ, 100*(accQ-accF))
		if *withORT {
			qr, _, err := quantize.Dynamic(m, quantize.Options{ReduceRange: true})
			if err != nil {
				return err
			}
			a1, err := ortAccuracy(q, x, test.Y, n, *batch)
			if err != nil {
				return fmt.Errorf("%s ONNX Runtime: %w", name, err)
			}
			a2, err := ortAccuracy(qr, x, test.Y, n, *batch)
			if err != nil {
				return fmt.Errorf("%s ONNX Runtime: %w", name, err)
			}
			line += fmt.Sprintf(" %.4f | %.4f |", a1, a2)
		}
		fmt.Println(line)
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, time.Since(start).Round(time.Second))
	}
	return nil
}

func defaultData() string {
	if d := os.Getenv("BIRNN_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "data")
}

// kerasAccuracy reads the accuracy Keras reported for the export.
func kerasAccuracy(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	var v struct{ Accuracy float64 }
	if err := json.Unmarshal(b, &v); err != nil {
		return "?"
	}
	return fmt.Sprintf("%.4f", v.Accuracy)
}

// batches calls score on [start, end) windows of the first n rows of x as
// float [rows, 100] tensors and counts the rows whose probability lands on
// their label's side of 0.5.
func batches(x dataset.Matrix, y []int32, n, size int, score func(rows int, ids []float32) ([]float32, error)) (float64, error) {
	right := 0
	for start := 0; start < n; start += size {
		end := min(n, start+size)
		ids := make([]float32, 0, (end-start)*x.Cols)
		for i := start; i < end; i++ {
			for _, v := range x.Row(i) {
				ids = append(ids, float32(v))
			}
		}
		p, err := score(end-start, ids)
		if err != nil {
			return 0, err
		}
		for i, v := range p {
			if (v > 0.5) == (y[start+i] == 1) {
				right++
			}
		}
	}
	return float64(right) / float64(n), nil
}

func engineAccuracy(m *onnx.ModelProto, x dataset.Matrix, y []int32, n, size int) (float64, error) {
	s, err := infer.LoadModel(m)
	if err != nil {
		return 0, err
	}
	in, out := s.Inputs()[0].Name, s.Outputs()[0].Name
	return batches(x, y, n, size, func(rows int, ids []float32) ([]float32, error) {
		res, err := s.Run(context.Background(), map[string]*infer.Tensor{in: infer.NewFloat32([]int{rows, x.Cols}, ids)})
		if err != nil {
			return nil, err
		}
		return res[out].Float32s(), nil
	})
}

func ortAccuracy(m *onnx.ModelProto, x dataset.Matrix, y []int32, n, size int) (float64, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return 0, err
	}
	in, out := m.GetGraph().GetInput()[0].GetName(), m.GetGraph().GetOutput()[0].GetName()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(b, []string{in}, []string{out}, nil)
	if err != nil {
		return 0, err
	}
	defer s.Destroy()
	return batches(x, y, n, size, func(rows int, ids []float32) ([]float32, error) {
		t, err := ort.NewTensor(ort.NewShape(int64(rows), int64(x.Cols)), ids)
		if err != nil {
			return nil, err
		}
		defer t.Destroy()
		outs := []ort.Value{nil}
		if err := s.Run([]ort.Value{t}, outs); err != nil {
			return nil, err
		}
		defer outs[0].Destroy()
		return append([]float32{}, outs[0].(*ort.Tensor[float32]).GetData()...), nil
	})
}
