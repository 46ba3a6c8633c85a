package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Names of the IMDB inputs inside a data folder.
const (
	// ArchiveName is the original Stanford archive (also holds train/unsup
	// and .feat files, which are ignored).
	ArchiveName = "aclImdb_v1.tar.gz"
	// LabeledArchiveName is the archive with only the labelled reviews.
	LabeledArchiveName = "aclImdb_v1_labeled.tar.gz"
	// FolderName is an unpacked archive.
	FolderName = "aclImdb"
	// WordIndexName is Keras's word index.
	WordIndexName = "imdb_word_index.json"
)

// Files are the IMDB inputs found in a data folder.
type Files struct {
	Reviews   string // an archive (.tar.gz) or an unpacked aclImdb folder
	WordIndex string // imdb_word_index.json
}

// Locate finds the IMDB inputs in dir or, failing that, in dir/imdb. For
// the reviews it takes the first of aclImdb_v1_labeled.tar.gz,
// aclImdb_v1.tar.gz and an aclImdb/ folder holding train/ and test/; the
// word index is imdb_word_index.json. A missing input is ErrNotFound, with
// the folders and the names looked for.
func Locate(dir string) (Files, error) {
	dirs := []string{dir, filepath.Join(dir, "imdb")}
	var f Files
	for _, d := range dirs {
		if f.Reviews == "" {
			f.Reviews = findReviews(d)
		}
	}
	f.WordIndex = WordIndexIn(dir)
	var missing []string
	if f.Reviews == "" {
		missing = append(missing, fmt.Sprintf("reviews (%s, %s or %s/)", LabeledArchiveName, ArchiveName, FolderName))
	}
	if f.WordIndex == "" {
		missing = append(missing, "word index ("+WordIndexName+")")
	}
	if len(missing) > 0 {
		return f, fmt.Errorf("%w: no %s in %s or %s; fetch them with `birnn data fetch` (or `--from DIR`) or point BIRNN_DATA at a folder holding them",
			ErrNotFound, strings.Join(missing, " and "), dirs[0], dirs[1])
	}
	return f, nil
}

// WordIndexIn is the word index of the data folder dir: dir/imdb_word_index.json,
// else dir/imdb/imdb_word_index.json (where `birnn data fetch` puts it in a
// shared data folder); "" when neither exists.
func WordIndexIn(dir string) string {
	for _, d := range []string{dir, filepath.Join(dir, "imdb")} {
		if p := filepath.Join(d, WordIndexName); isFile(p) {
			return p
		}
	}
	return ""
}

func findReviews(d string) string {
	for _, n := range []string{LabeledArchiveName, ArchiveName} {
		if p := filepath.Join(d, n); isFile(p) {
			return p
		}
	}
	p := filepath.Join(d, FolderName)
	if isDir(filepath.Join(p, "train")) && isDir(filepath.Join(p, "test")) {
		return p
	}
	return ""
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
