package dataset

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLoadDataMatchesKerasOracle compares LoadData(num_words=4000) with the
// arrays keras.datasets.imdb.load_data returned, byte for byte in the
// oracle's text form, and the review behind each row with the order files.
func TestLoadDataMatchesKerasOracle(t *testing.T) {
	dir := imdbDir(t)
	o := DefaultLoadOptions()
	o.NumWords = 4000
	train, test, err := LoadData(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name string
		sp   *Split
	}{{"train", train}, {"test", test}} {
		want := readGz(t, filepath.Join(dir, "keras-oracle", "keras_x_"+s.name+"_4000.txt.gz"))
		var got bytes.Buffer
		if err := WriteSequences(&got, s.sp); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s: row %d differs:\n got %.200s\nwant %.200s", s.name, i, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: %d lines, want %d", s.name, len(gl), len(wl))
		}
		order, err := os.ReadFile(filepath.Join(dir, "keras-oracle", "keras_"+s.name+"_order.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(s.sp.Files, "\n")+"\n", string(order); got != want {
			t.Errorf("%s: Files differ from keras_%s_order.txt", s.name, s.name)
		}
	}
}

func readGz(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fixture is a tiny IMDB tree: name → body.
var fixture = map[string]string{
	"aclImdb/train/pos/0_9.txt":  "A great film.<br />Great!",
	"aclImdb/train/pos/1_7.txt":  "good good plot",
	"aclImdb/train/neg/0_3.txt":  "Bad plot, bad film",
	"aclImdb/train/neg/10_2.txt": "the worst",
	"aclImdb/train/neg/2_1.txt":  "zzz unknown",
	"aclImdb/test/pos/5_8.txt":   "great",
	"aclImdb/test/neg/3_4.txt":   "bad BAD film",
	"aclImdb/test/neg/4_2.txt":   "the plot was bad",
	// Present in the original archive and ignored by the loader.
	"aclImdb/train/unsup/0_0.txt":    "great great great",
	"aclImdb/train/labeledBow.feat":  "0:1 1:2",
	"aclImdb/imdb.vocab":             "the\na\n",
	"aclImdb/README":                 "readme",
	"aclImdb/train/urls_pos.txt":     "http://",
	"aclImdb/test/pos/notes/x_1.txt": "great",
}

// fixtureIndex ranks the fixture's words.
const fixtureIndex = `{"the": 1, "a": 2, "film": 3, "great": 4, "bad": 5, "plot": 6, "good": 7, "br": 8, "was": 9, "worst": 10}`

func writeTarGz(t testing.TB, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	slices.Reverse(names) // the loader must not rely on archive order
	for _, n := range names {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFolder(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for n, body := range files {
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fixtureDir(t *testing.T, archive string) string {
	t.Helper()
	dir := t.TempDir()
	if archive == FolderName {
		writeFolder(t, dir, fixture)
	} else {
		writeTarGz(t, filepath.Join(dir, archive), fixture)
	}
	if err := os.WriteFile(filepath.Join(dir, WordIndexName), []byte(fixtureIndex), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func formatSplit(s *Split) string {
	var b strings.Builder
	for i, x := range s.X {
		fmt.Fprintf(&b, "%s %d %v\n", s.Files[i], s.Y[i], x)
	}
	return b.String()
}

// Expected rows worked out by hand: pre-shuffle order train = pos/0_9,
// pos/1_7, neg/0_3, neg/10_2, neg/2_1 and test = pos/5_8, neg/3_4,
// neg/4_2; numpy 1.26.4 gives RandomState(113) shuffles [1 0 3 2 4] of
// arange(5) then [1 0 2] of arange(3). Ids are rank + 3 after a 1.
func TestLoadDataFixture(t *testing.T) {
	wantTrain := "train/pos/1_7.txt 1 [1 10 10 9]\n" +
		"train/pos/0_9.txt 1 [1 5 7 6 11 7]\n" +
		"train/neg/10_2.txt 0 [1 4 13]\n" +
		"train/neg/0_3.txt 0 [1 8 9 8 6]\n" +
		"train/neg/2_1.txt 0 [1]\n"
	wantTest := "test/neg/3_4.txt 0 [1 8 8 6]\n" +
		"test/pos/5_8.txt 1 [1 7]\n" +
		"test/neg/4_2.txt 0 [1 4 9 12 8]\n"
	for _, src := range []string{LabeledArchiveName, ArchiveName, FolderName} {
		t.Run(src, func(t *testing.T) {
			train, test, err := LoadData(fixtureDir(t, src), DefaultLoadOptions())
			if err != nil {
				t.Fatal(err)
			}
			// num_words=None: Keras sets it to the largest id (13), which
			// itself becomes oov_char 2.
			wt := strings.Replace(wantTrain, "[1 4 13]", "[1 4 2]", 1)
			if got := formatSplit(train); got != wt {
				t.Errorf("train:\n%s\nwant:\n%s", got, wt)
			}
			if got := formatSplit(test); got != wantTest {
				t.Errorf("test:\n%s\nwant:\n%s", got, wantTest)
			}
		})
	}
}

// Keras option semantics on the fixture, worked out by hand from the
// load_data source.
func TestLoadDataOptions(t *testing.T) {
	dir := fixtureDir(t, LabeledArchiveName)
	for _, tc := range []struct {
		name        string
		edit        func(*LoadOptions)
		train, test string
	}{
		{"num_words 8", func(o *LoadOptions) { o.NumWords = 8 },
			"[1 2 2 2] [1 5 7 6 2 7] [1 4 2] [1 2 2 2 6] [1]", "[1 2 2 6] [1 7] [1 4 2 2 2]"},
		{"skip_top 5 num_words 9", func(o *LoadOptions) { o.NumWords = 9; o.SkipTop = 5 },
			"[2 2 2 2] [2 5 7 6 2 7] [2 2 2] [2 8 2 8 6] [2]", "[2 8 8 6] [2 7] [2 2 2 2 8]"},
		{"oov None", func(o *LoadOptions) { o.NumWords = 8; o.OOVChar = -1 },
			"[1] [1 5 7 6 7] [1 4] [1 6] [1]", "[1 6] [1 7] [1 4]"},
		{"start None index_from 0", func(o *LoadOptions) { o.NumWords = 100; o.StartChar = -1; o.IndexFrom = 0 },
			"[7 7 6] [2 4 3 8 4] [1 10] [5 6 5 3] []", "[5 5 3] [4] [1 6 9 5]"},
		// maxlen drops sequences of length >= maxlen (start included).
		{"maxlen 5", func(o *LoadOptions) { o.NumWords = 100; o.MaxLen = 5 },
			"[1 10 10 9] [1 4 13] [1]", "[1 8 8 6] [1 7]"},
		{"seed 7", func(o *LoadOptions) { o.NumWords = 100; o.Seed = 7 },
			// numpy: RandomState(7) shuffles [0 3 2 1 4] then [2 1 0].
			"[1 5 7 6 11 7] [1 4 13] [1 8 9 8 6] [1 10 10 9] [1]", "[1 4 9 12 8] [1 8 8 6] [1 7]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultLoadOptions()
			tc.edit(&o)
			train, test, err := LoadData(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsString(train); got != tc.train {
				t.Errorf("train %s, want %s", got, tc.train)
			}
			if got := rowsString(test); got != tc.test {
				t.Errorf("test %s, want %s", got, tc.test)
			}
		})
	}
}

func rowsString(s *Split) string {
	parts := make([]string, len(s.X))
	for i, x := range s.X {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, " ")
}

func TestLoadDataErrors(t *testing.T) {
	good := fixtureDir(t, LabeledArchiveName)
	archive, err := os.ReadFile(filepath.Join(good, LabeledArchiveName))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(t *testing.T, files map[string][]byte) string {
		dir := t.TempDir()
		for n, b := range files {
			if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	idx := []byte(fixtureIndex)
	corrupt := slices.Clone(archive)
	corrupt[len(corrupt)/2] ^= 0xff
	noTest := filepath.Join(t.TempDir(), "x.tar.gz")
	writeTarGz(t, noTest, map[string]string{"aclImdb/train/pos/1_9.txt": "great"})
	noTestBytes, _ := os.ReadFile(noTest)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		opts  func(*LoadOptions)
		want  error
		msg   string
	}{
		{"empty folder", nil, nil, ErrNotFound, ArchiveName},
		{"no word index", map[string][]byte{LabeledArchiveName: archive}, nil, ErrNotFound, WordIndexName},
		{"no reviews", map[string][]byte{WordIndexName: idx}, nil, ErrNotFound, LabeledArchiveName},
		{"truncated archive", map[string][]byte{LabeledArchiveName: archive[:len(archive)*2/3], WordIndexName: idx}, nil, ErrCorrupt, "unexpected EOF"},
		{"corrupt archive", map[string][]byte{LabeledArchiveName: corrupt, WordIndexName: idx}, nil, ErrCorrupt, LabeledArchiveName},
		{"not gzip", map[string][]byte{LabeledArchiveName: []byte("plain text"), WordIndexName: idx}, nil, ErrCorrupt, "gzip"},
		{"no test split", map[string][]byte{LabeledArchiveName: noTestBytes, WordIndexName: idx}, nil, ErrNotFound, "no test reviews"},
		{"malformed index", map[string][]byte{LabeledArchiveName: archive, WordIndexName: []byte(`{"the": 1,`)}, nil, ErrFormat, WordIndexName},
		{"index not object", map[string][]byte{LabeledArchiveName: archive, WordIndexName: []byte(`["the"]`)}, nil, ErrFormat, "not a JSON object"},
		{"index bad rank", map[string][]byte{LabeledArchiveName: archive, WordIndexName: []byte(`{"the": 0}`)}, nil, ErrFormat, `"the"`},
		{"index float rank", map[string][]byte{LabeledArchiveName: archive, WordIndexName: []byte(`{"the": 1.5}`)}, nil, ErrFormat, "word index"},
		{"maxlen drops all", map[string][]byte{LabeledArchiveName: archive, WordIndexName: idx}, func(o *LoadOptions) { o.MaxLen = 1 }, ErrEmpty, "maxlen=1"},
		{"negative num_words", map[string][]byte{LabeledArchiveName: archive, WordIndexName: idx}, func(o *LoadOptions) { o.NumWords = -1 }, ErrOption, "num_words"},
		{"seed too large", map[string][]byte{LabeledArchiveName: archive, WordIndexName: idx}, func(o *LoadOptions) { o.Seed = 1 << 32 }, ErrOption, "seed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mk(t, tc.files)
			o := DefaultLoadOptions()
			if tc.opts != nil {
				tc.opts(&o)
			}
			_, _, err := LoadData(dir, o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// Locate also looks in dir/imdb, the layout of the shared data folder.
func TestLocateImdbSubfolder(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "imdb")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTarGz(t, filepath.Join(sub, ArchiveName), fixture)
	if err := os.WriteFile(filepath.Join(sub, WordIndexName), []byte(fixtureIndex), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Locate(root)
	if err != nil {
		t.Fatal(err)
	}
	if f.Reviews != filepath.Join(sub, ArchiveName) || f.WordIndex != filepath.Join(sub, WordIndexName) {
		t.Errorf("Locate = %+v", f)
	}
}

func TestWriteSequencesFormat(t *testing.T) {
	var b bytes.Buffer
	s := &Split{X: [][]int32{{1, 14, 22}, {1}}, Y: []int32{1, 0}}
	if err := WriteSequences(&b, s); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "1 1 14 22\n0 1\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestReadReviewsManyChunks runs the pipeline over enough files to fill
// many chunks and recycle their buffers, and checks every review against
// TextToWordSequence + map lookups, for the archive and the folder.
func TestReadReviewsManyChunks(t *testing.T) {
	words := []string{"the", "a", "film", "great", "bad", "plot", "good", "br", "was", "worst", "Extraordinarily", "unknownword", "<br />", "FILM!", "café"}
	wi := WordIndex{"the": 1, "a": 2, "film": 3, "great": 4, "bad": 5, "plot": 6, "good": 7, "br": 8, "was": 9, "worst": 10, "extraordinarily": 11, "café": 12}
	r, _ := NewRandomState(5)
	files := map[string]string{}
	texts := map[string]string{}
	for i := range 4000 {
		var b strings.Builder
		for range 20 + r.Interval(120) {
			b.WriteString(words[r.Interval(uint64(len(words)-1))])
			b.WriteString([]string{" ", ", ", ". ", "\n"}[r.Interval(3)])
		}
		name := fmt.Sprintf("%s/%s/%d_%d.txt", []string{"train", "test"}[i%2], []string{"pos", "neg"}[i/2%2], i, 1+i%10)
		files["aclImdb/"+name] = b.String()
		texts[name] = b.String()
	}
	dir := t.TempDir()
	writeTarGz(t, filepath.Join(dir, ArchiveName), files)
	writeFolder(t, dir, files)
	for _, src := range []string{filepath.Join(dir, ArchiveName), filepath.Join(dir, FolderName)} {
		train, test, err := ReadReviews(src, wi)
		if err != nil {
			t.Fatal(err)
		}
		if len(train) != 2000 || len(test) != 2000 {
			t.Fatalf("%s: %d train, %d test reviews", src, len(train), len(test))
		}
		for _, rv := range append(train, test...) {
			var want []int32
			for _, w := range TextToWordSequence(texts[rv.Name]) {
				if r, ok := wi[w]; ok {
					want = append(want, int32(r))
				}
			}
			if !slices.Equal(rv.Ranks, want) {
				t.Fatalf("%s: %s: ranks %v, want %v", src, rv.Name, rv.Ranks, want)
			}
			if strings.Contains(rv.Name, "/pos/") != (rv.Label == 1) {
				t.Fatalf("%s: label %d", rv.Name, rv.Label)
			}
		}
		if !slices.IsSortedFunc(train, compareReviews) {
			t.Errorf("%s: train not in pos-then-name order", src)
		}
	}
}
