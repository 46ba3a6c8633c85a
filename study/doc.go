// Package study is the reproduction of the Keras deep/bidirectional LSTM
// study on IMDB: the study's reference results, the pipeline that trains
// its five runs, exports them, cross-checks them against the Keras exports
// and writes a report beside the study's numbers.
//
//	for each run: configs → train.Run (skip when done, resume when
//	interrupted, start over with Force) → curves.png
//	→ export.Checkpoint → model.onnx → crosscheck.Run → report.md, compare.png
//
// Reproduce drives it (birnn reproduce is a thin wrapper); WriteReport
// renders report.md from whatever runs a folder holds; References and
// Compared are the study's numbers and its comparison figure's runs.
//
// What it does not do: train, export or score by itself (train, export and
// score do), or decide settings (the caller passes each run's
// configuration through Options.Config).
package study
