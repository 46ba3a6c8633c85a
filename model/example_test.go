package model_test

import (
	"fmt"
	"os"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/model"
)

// The deep LSTM of the study: the same table and totals as Keras's
// model.summary() (322,113 parameters).
func ExampleWriteSummary() {
	cfg, err := configs.Load("deep_lstm")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := model.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := model.WriteSummary(os.Stdout, m); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Model: "deep_lstm"
	// _________________________________________________________________
	// Layer (type)                 Output Shape              Param #
	// =================================================================
	// embedding (Embedding)        (None, None, 64)          256000
	// _________________________________________________________________
	// lstm_0 (LSTM)                (None, None, 64)          33024
	// _________________________________________________________________
	// lstm_1 (LSTM)                (None, 64)                33024
	// _________________________________________________________________
	// dense_2 (Dense)              (None, 1)                 65
	// =================================================================
	// Total params: 322,113
	// Trainable params: 322,113
	// Non-trainable params: 0
	// _________________________________________________________________
}
