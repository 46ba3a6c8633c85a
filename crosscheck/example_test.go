package crosscheck_test

import (
	"context"
	"fmt"
	"os"

	"github.com/birnn/birnn/crosscheck"
)

// Run lists runs that neither side has as missing; the report is the
// markdown that `birnn reproduce` appends to runs/report.md.
func ExampleRun() {
	rep, err := crosscheck.Run(context.Background(), crosscheck.Options{
		Keras: "no-keras", Runs: "no-runs", Names: []string{"deep_lstm"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(rep.Markdown())
	if err := rep.WriteTable(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ## birnn against Keras
	//
	// Test split of IMDB (25,000 reviews). Label agreement: both models' `p > 0.5` on each test review. max |infer − Keras|: birnn's engine on the Keras export against Keras's `model.predict`.
	//
	// | run | test acc (Keras) | test acc (birnn) | Δ acc | label agreement | max \|infer − Keras\| |
	// |---|---|---|---|---|---|
	// | deep_lstm | – | – | – | – | – |
	//
	// Missing:
	//
	// - deep_lstm: no-keras/deep_lstm, no-runs/deep_lstm
	// run        test acc (Keras)  test acc (birnn)  Δ acc  label agreement  max |infer − Keras|
	// deep_lstm  –                 –                 –      –                –
	//
	// missing:
	//   deep_lstm: no-keras/deep_lstm, no-runs/deep_lstm
}
