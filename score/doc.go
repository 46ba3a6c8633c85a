// Package score is the sentiment scorer above the ONNX engine: it turns raw
// review text into P(positive) with any sentiment classifier the engine
// runs — birnn's exports and Keras/tf2onnx exports alike.
//
//	text ─dataset.WordIndex.Encode→ ids (start 1, rank + index_from, OOV 2)
//	     ─dataset.PadSequences→ [batch, maxlen] in the input's dtype
//	     ─infer.Session.Run→ [batch, 1] sigmoid or [batch, 2] softmax → P(positive)
//	                         [batch, k] softmax → Classify: argmax class, k probabilities
//
// The encoding (vocabulary size, maxlen, padding, truncation, index_from)
// comes from Options, else from the model's birnn.* metadata (the
// model.Meta* keys the exporter writes), else from the study's values;
// Keras exports carry no metadata and use the study's. Binary labels are
// not decided here: callers apply model.Positive to the scores. A wider
// softmax head has no P(positive): Classify gives its argmax class and
// probabilities, and Label names classes with the model's birnn.labels.
//
// What it does not do: run graphs (infer does, and infer knows nothing of
// text), train, or decide labels.
//
// A note on short reviews: the study pads after the words (post) and its
// models have no masking, so a review of one or two words is followed by
// ~98 padding steps that the LSTM reads after the words; such reviews
// score near what the model gives an empty review (near 0 for the
// study's runs). That is the study's recipe, kept for parity; masking
// (ONNX sequence_lens) is the fix for new models.
package score
