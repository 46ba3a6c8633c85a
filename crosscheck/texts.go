package crosscheck

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/birnn/birnn/dataset"
	gzip "github.com/klauspost/compress/gzip"
)

// maxReviewBytes bounds one review; the largest IMDB review is ~14 kB.
const maxReviewBytes = 1 << 24

// ReadTexts returns the raw texts of the reviews named in names
// ("test/pos/0_10.txt", as dataset.Split.Files names them), in the order of
// names, from reviews: an IMDB archive (.tar.gz, streamed) or an unpacked
// aclImdb folder (dataset.Files.Reviews). A name may repeat.
//
// Errors: reviews unreadable; a name that is not a review path; a review
// missing from reviews (the error names the first).
func ReadTexts(reviews string, names []string) ([]string, error) {
	want := make(map[string][]int, len(names))
	for i, n := range names {
		if strings.Contains(n, "..") || strings.HasPrefix(n, "/") || !strings.HasSuffix(n, ".txt") {
			return nil, fmt.Errorf("crosscheck: %q is not a review path like test/pos/0_10.txt", n)
		}
		want[n] = append(want[n], i)
	}
	out := make([]string, len(names))
	st, err := os.Stat(reviews)
	if err != nil {
		return nil, fmt.Errorf("crosscheck: %w", err)
	}
	if st.IsDir() {
		for n, idx := range want {
			b, err := os.ReadFile(filepath.Join(reviews, filepath.FromSlash(n)))
			if err != nil {
				return nil, fmt.Errorf("crosscheck: review %s: %w", n, err)
			}
			for _, i := range idx {
				out[i] = string(b)
			}
		}
		return out, nil
	}
	if err := readArchiveTexts(reviews, want, out); err != nil {
		return nil, err
	}
	return out, nil
}

func readArchiveTexts(path string, want map[string][]int, out []string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("crosscheck: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("crosscheck: %s: not a gzip stream: %w", path, err)
	}
	tr := tar.NewReader(gz)
	left := len(want)
	found := make(map[string]bool, len(want))
	for left > 0 {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("crosscheck: %s: %w", path, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(hdr.Name, "./"), dataset.FolderName+"/")
		idx, ok := want[name]
		if !ok || found[name] {
			continue
		}
		if hdr.Size < 0 || hdr.Size > maxReviewBytes {
			return fmt.Errorf("crosscheck: %s: %s has size %d", path, hdr.Name, hdr.Size)
		}
		b := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return fmt.Errorf("crosscheck: %s: reading %s: %w", path, hdr.Name, err)
		}
		for _, i := range idx {
			out[i] = string(b)
		}
		found[name] = true
		left--
	}
	if left > 0 {
		missing := make([]string, 0, left)
		for n := range want {
			if !found[n] {
				missing = append(missing, n)
			}
		}
		slices.Sort(missing)
		return fmt.Errorf("crosscheck: %s holds no review %s (%d of %d missing)", path, missing[0], left, len(want))
	}
	return nil
}
