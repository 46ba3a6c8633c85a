// Package crosscheck compares birnn with Keras: the models the study trained
// in Keras and exported with tf2onnx ("trained elsewhere") against birnn's
// engine, tokenizer and importer, and the study's runs as trained by birnn
// against the same runs trained by Keras.
//
//	<keras>/<run>/{model.onnx, predictions.json, metrics.json, test_labels.txt}
//	     │ infer.Session on predictions.json's x ─→ max |infer − Keras|
//	     │ test_labels.txt ──────────────────────┐
//	<runs>/<run>/{metrics.json, model.onnx | checkpoint.ckpt}
//	     │ infer on the 25,000 test reviews ─→ Go labels ─→ label agreement
//	     └ metrics.json ─→ Go test accuracy beside Keras's
//
// Run builds a Report of one Row per study run; Report.Markdown and
// Report.WriteTable print it. ReadExport reads one Keras export folder in
// the format of testdata/keras/README.md. The IMDB archive is read by
// package dataset (dataset.ReadTexts for raw texts), metrics.json by
// model.ReadMetrics, and labels follow model.Positive.
//
// What it does not do: train, export or score by itself (it drives train,
// export and score), or read the IMDB archive format (dataset does).
//
// References: keras.datasets.imdb.load_data and pad_sequences (TF 2.15),
// tf2onnx 1.16's Keras converter, and the study's notebook.
package crosscheck
