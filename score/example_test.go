package score_test

import (
	"context"
	"fmt"
	"log"

	"github.com/birnn/birnn/dataset"
	"github.com/birnn/birnn/infer"
	"github.com/birnn/birnn/onnx"
	"github.com/birnn/birnn/score"
)

// A Scorer encodes reviews like keras.datasets.imdb and returns
// P(positive). The model here is a stand-in, sigmoid(0.01·Σids − 1) over 4
// ids, shaped like a Keras export (float32 input [unk, 4]).
func ExampleScorer() {
	w, _ := onnx.MakeTensor("W", []int64{4, 1}, []float32{0.01, 0.01, 0.01, 0.01})
	b, _ := onnx.MakeTensor("b", []int64{1}, []float32{-1})
	g := onnx.MakeGraph("linear", []*onnx.NodeProto{
		onnx.MakeNode("mm", "MatMul", []string{"embedding_input", "W"}, []string{"z0"}),
		onnx.MakeNode("add", "Add", []string{"z0", "b"}, []string{"z"}),
		onnx.MakeNode("act", "Sigmoid", []string{"z"}, []string{"dense"}),
	}, []*onnx.ValueInfoProto{onnx.MakeValueInfo("embedding_input", onnx.TensorProto_FLOAT, onnx.DimParam("unk__5"), onnx.DimValue(4))},
		[]*onnx.ValueInfoProto{onnx.MakeValueInfo("dense", onnx.TensorProto_FLOAT, onnx.DimParam("unk__5"), onnx.DimValue(1))}, w, b)
	sess, err := infer.LoadModel(onnx.MakeModel(g))
	if err != nil {
		log.Fatal(err)
	}
	wi := dataset.WordIndex{"great": 40, "movie": 10, "dull": 90, "the": 1}
	s, err := score.New(sess, wi, score.Options{NumWords: 100})
	if err != nil {
		log.Fatal(err)
	}
	ids, _ := s.Encode("A great movie!")
	fmt.Println("ids:", ids) // start 1, rank+3; unknown words dropped
	scores, err := s.Score(context.Background(), []string{"A great movie!", "dull, dull... the movie"})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range scores {
		fmt.Printf("%.4f\n", p)
	}
	// Output:
	// ids: [1 43 13]
	// 0.3941
	// 0.7369
}
