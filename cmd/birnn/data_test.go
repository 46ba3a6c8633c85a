package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birnn/birnn/internal/testutil"
)

// imdbData returns the shared IMDB folder (imdb/ in the data folder);
// skipped without it, fatal when CI=true.
func imdbData(t *testing.T) string {
	t.Helper()
	return testutil.DataDir(t, "imdb")
}

func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(openFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDataSequencesMatchesKeras: `birnn data sequences` prints exactly the
// Keras oracle (imdb.load_data(num_words=4000), label then ids per row).
func TestDataSequencesMatchesKeras(t *testing.T) {
	dir := imdbData(t)
	for _, split := range []string{"train", "test"} {
		want := gunzipFile(t, filepath.Join(dir, "keras-oracle", "keras_x_"+split+"_4000.txt.gz"))
		out, errOut, code := runCLI(t, nil, nil, "data", "sequences", "--split", split, "--num-words", "4000", "--data", dir)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", split, code, errOut)
		}
		if !bytes.Equal([]byte(out), want) {
			t.Errorf("%s: output differs from keras_x_%s_4000.txt.gz (%d bytes, want %d)", split, split, len(out), len(want))
		}
	}
	// --out writes the same bytes to a file.
	p := filepath.Join(t.TempDir(), "test.txt")
	if _, errOut, code := runCLI(t, nil, []string{"BIRNN_DATA=" + dir}, "data", "sequences", "--split", "test", "--out", p); code != 0 {
		t.Fatalf("--out: exit %d: %s", code, errOut)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, gunzipFile(t, filepath.Join(dir, "keras-oracle", "keras_x_test_4000.txt.gz"))) {
		t.Error("--out file differs from the oracle")
	}
}

// The study prints x_train[0] padded (post) to 100 and decodes it; its
// notebook shows the row starting 1415 33 6 22 and the words 'cry', 'at',
// 'a', 'film', 'it', 'must', 'have', 'been', 'good', 'and', 'this'.
func TestDataShowStudyRow(t *testing.T) {
	dir := imdbData(t)
	out, errOut, code := runCLI(t, nil, nil, "data", "show", "--split", "train", "--index", "0", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"train/pos/576_10.txt, label 1",
		"\n1 14 22 16 43 530 973 1622 1385 65 458 2 66 3941 ",
		"\n1415 33 6 22 12 215 28 77 52 5 14 407 16 82 2 8 4 107 117 2 ",
		"\ncry at a film it must have been good and this definitely was also ? to the two little ? that",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, errOut, code := runCLI(t, nil, nil, "data", "show", "--split", "test", "--index", "25000", "--data", dir); code != 2 || !strings.Contains(errOut, "rows 0 to 24999") {
		t.Errorf("--index 25000: exit %d, stderr %q", code, errOut)
	}
}

func TestDataInfo(t *testing.T) {
	dir := imdbData(t)
	out, errOut, code := runCLI(t, nil, nil, "data", "info", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 12,500 reviews per label and split (the dataset's README).
	for _, want := range []string{"train  25000  12500   12500", "test  25000  12500   12500", "train [25000, 100], test [25000, 100] int32"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDataFetchFrom(t *testing.T) {
	dir := imdbData(t)
	dest := t.TempDir()
	out, errOut, code := runCLI(t, nil, nil, "data", "fetch", "--from", dir, "--data", dest)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, filepath.Join(dest, "aclImdb_v1_labeled.tar.gz")) {
		t.Errorf("output does not name the copied archive:\n%s", out)
	}
	for _, n := range []string{"aclImdb_v1_labeled.tar.gz", "imdb_word_index.json"} {
		if _, err := os.Stat(filepath.Join(dest, n)); err != nil {
			t.Error(err)
		}
	}
}

func TestDataErrors(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"data", "sequences", "--data", empty}, 2, "--split"},
		{[]string{"data", "show", "--split", "valid", "--data", empty}, 2, "want train or test"},
		{[]string{"data", "show", "--padding", "middle", "--data", empty}, 2, "--padding"},
		{[]string{"data", "sequences", "--split", "train", "--data", empty}, 1, "imdb_word_index.json"},
		{[]string{"data", "info", "--data", empty}, 1, "birnn data fetch"},
		{[]string{"data", "fetch", "--from", empty, "--data", t.TempDir()}, 1, "must hold"},
	} {
		_, errOut, code := runCLI(t, nil, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("birnn %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// The bar redraws in place (carriage returns) once per MiB and ends each
// file on its own line; off a terminal it prints nothing.
func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := &progressBar{w: &b, on: true, lastTick: -1}
	p.update("a.tar.gz", 0, 4<<20)
	p.update("a.tar.gz", 100, 4<<20) // same MiB: no redraw
	p.update("a.tar.gz", 2<<20, 4<<20)
	p.update("a.tar.gz", 4<<20, 4<<20)
	p.update("w.json", 10, -1)
	p.done()
	out := b.String()
	if n := strings.Count(out, "\r"); n != 4 {
		t.Errorf("%d redraws, want 4:\n%q", n, out)
	}
	for _, want := range []string{" 50.0%    2.0/4.0 MiB", "100.0%    4.0/4.0 MiB\n", "w.json", "0.0 MiB\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	var quiet bytes.Buffer
	q := newProgressBar(&quiet)
	q.update("a", 1, 2)
	q.done()
	if quiet.Len() != 0 {
		t.Errorf("non-terminal output %q", quiet.String())
	}
}
