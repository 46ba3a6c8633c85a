package export_test

import (
	"fmt"
	"log"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/export"
	"github.com/birnn/birnn/model"
	"github.com/birnn/birnn/onnximport"
)

// The study's deep bidirectional LSTM as ONNX: one LSTM node per Keras
// layer, the directions concatenated by Transpose + Reshape.
func ExampleModel() {
	cfg, err := configs.Load("deep_bilstm")
	if err != nil {
		log.Fatal(err)
	}
	m, err := model.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	mp, err := export.Model(m, export.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range mp.GetGraph().GetNode() {
		fmt.Printf("%-10s %s\n", n.GetOpType(), n.GetName())
	}
	back, err := onnximport.Import(mp)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.NumParams(), "parameters")
	// Output:
	// Gather     embedding/Gather
	// Transpose  embedding/Transpose
	// LSTM       lstm_0/LSTM
	// Transpose  lstm_0/Transpose
	// Reshape    lstm_0/Reshape
	// LSTM       lstm_1/LSTM
	// Transpose  lstm_1/Transpose
	// Reshape    lstm_1/Reshape
	// MatMul     dense_2/MatMul
	// Add        dense_2/BiasAdd
	// Sigmoid    dense_2/Sigmoid
	// 420993 parameters
}
