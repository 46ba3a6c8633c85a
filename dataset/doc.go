// Package dataset reproduces keras.datasets.imdb.load_data and
// keras pad_sequences in Go, reading the Stanford Large Movie Review
// Dataset (Maas et al., 2011) and Keras's word index directly.
//
// How data moves through it:
//
//	aclImdb_v1[_labeled].tar.gz ─┐  (gunzip + untar in one pass, or an unpacked aclImdb/)
//	imdb_word_index.json ────────┴─► ReadReviews: text_to_word_sequence → ranks   (pos, neg; names sorted)
//	                                   │
//	                                   ▼
//	                    FromReviews: RandomState(113).shuffle(train), then test with the same generator;
//	                                 [start_char] + (rank + index_from); drop len >= maxlen;
//	                                 ids outside [skip_top, num_words) → oov_char
//	                                   │
//	                                   ▼
//	                    Split{X [rows][len], Y [rows], Files [rows]} ─► PadSequences ─► Matrix [rows, maxlen] int32
//
// LoadData does all of it from a data folder (see Locate) and returns the
// same arrays, in the same row order, as Keras's load_data does from
// imdb.npz: the tests compare it byte for byte with Keras's output.
//
// Facts the parity rests on (Keras 2.x source, numpy legacy random):
//
//   - Tokenizing: ASCII letters lower-cased byte by byte (other letters kept
//     as they are), each of !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ and tab/newline
//     replaced by a space, split on spaces, empty words dropped; words not
//     in the index are dropped. "<br />" becomes "br".
//   - Shuffling: numpy's MT19937 seeded by init_genrand, and the legacy
//     RandomState.shuffle (for i = n−1…1 swap with random_interval(i),
//     masked rejection sampling). See RandomState.
//   - maxlen in load_data DROPS sequences of maxlen ids or more (start
//     marker included); it does not truncate. pad_sequences truncates, by
//     default at the front ("pre": the last maxlen ids are kept).
//   - num_words=None makes Keras use the largest id as num_words, so that
//     id itself becomes oov_char.
//
// Decoding (WordIndex.Decode) looks id − index_from up in the inverted index;
// ids without a word (padding 0, start 1, out-of-vocabulary 2) print as
// "?", as the study prints reviews.
//
// Other labelled text datasets — a TSV, CSV or JSON-lines file per split
// (ReadLabeledText), or a folder per split with a folder per class as
// Keras's text_dataset_from_directory reads them (ReadClassFolders) — load
// as a Corpus: its Vocabulary is a keras Tokenizer fitted on the training
// split (counts, descending, ties by first appearance; num_words,
// oov_token; checked against Keras 2.15's own output in
// testdata/tokenizer_golden.json), and every split is texts_to_sequences
// of it. The vocabulary serialises to JSON, which a trained model carries
// (model.MetaVocabulary) so that scoring tokenizes as training did.
// encoding/csv reads the delimited files; the class folders and the
// vocabulary are hand-written, as no library implements Keras's rules.
//
// FetchIMDB downloads the inputs with checksums, HTTP Range resume and
// atomic renames; FromDir copies them from a local folder instead.
//
// Source is what trainers take: anything that gives train and test splits
// of (ids, label) rows; IMDB is the Source of the study's data. The IMDB
// archive format is read in one place (walkArchive), by ReadReviews and by
// ReadTexts, which returns raw review texts by name.
//
// What it does not do: train, pad for a model's input at scoring time
// (package score does, with PadSequences), or know about model files; the
// data folder's location is the caller's (birnn's CLI: --data, else
// BIRNN_DATA_DIR or BIRNN_DATA, else ./data).
//
// References: https://keras.io/api/datasets/imdb/,
// https://keras.io/api/data_loading/timeseries/ (pad_sequences),
// https://ai.stanford.edu/~amaas/data/sentiment/.
package dataset
