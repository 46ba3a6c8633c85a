package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ReadTexts returns the raw texts of the reviews named in names
// ("test/pos/0_10.txt", as Split.Files names them), in the order of
// names, from reviews: an IMDB archive (.tar.gz, streamed) or an unpacked
// aclImdb folder (Files.Reviews). A name may repeat.
//
// It reads the archive with the same walker as ReadReviews, stopping once
// every name is found. Errors: reviews unreadable (ErrNotFound,
// ErrCorrupt); a name that is not a review path (ErrOption); a review
// missing from reviews (ErrNotFound, naming the first).
func ReadTexts(reviews string, names []string) ([]string, error) {
	want := make(map[string][]int, len(names))
	for i, n := range names {
		if name, _, ok := reviewName(n); !ok || name != n || strings.Contains(n, "..") {
			return nil, fmt.Errorf("%w: %q is not a labelled review path like test/pos/0_10.txt", ErrOption, n)
		}
		want[n] = append(want[n], i)
	}
	out := make([]string, len(names))
	st, err := os.Stat(reviews)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, reviews)
		}
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if st.IsDir() {
		for n, idx := range want {
			b, err := os.ReadFile(filepath.Join(reviews, filepath.FromSlash(n)))
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%w: %s holds no review %s", ErrNotFound, reviews, n)
			}
			if err != nil {
				return nil, fmt.Errorf("dataset: review %s: %w", n, err)
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
	left := len(want)
	found := make(map[string]bool, len(want))
	err := walkArchive(path, func(name string, _ int32, size int, body io.Reader) (bool, error) {
		idx, ok := want[name]
		if !ok || found[name] {
			return false, nil
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(body, b); err != nil {
			return false, fmt.Errorf("%w: %s: reading %s: %v", ErrCorrupt, path, name, err)
		}
		for _, i := range idx {
			out[i] = string(b)
		}
		found[name] = true
		left--
		return left == 0, nil
	})
	if err != nil {
		return err
	}
	if left > 0 {
		missing := make([]string, 0, left)
		for n := range want {
			if !found[n] {
				missing = append(missing, n)
			}
		}
		slices.Sort(missing)
		return fmt.Errorf("%w: %s holds no review %s (%d of %d missing)", ErrNotFound, path, missing[0], left, len(want))
	}
	return nil
}
