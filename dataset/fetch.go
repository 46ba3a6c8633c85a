package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/birnn/birnn/internal/atomicfile"
)

// Published locations and SHA-256 digests of the IMDB inputs.
const (
	ArchiveURL           = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
	ArchiveSHA256        = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
	LabeledArchiveSHA256 = "75a942c75f8b16a17917aced59cd774da78d50e49635e824d4e07b41e8710461"
	WordIndexURL         = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"
	WordIndexSHA256      = "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6"
)

// Progress reports a transfer: done of total bytes of the file name (total
// is −1 when unknown). It is called often; keep it cheap.
type Progress func(name string, done, total int64)

// FetchOptions configure FetchIMDB. Zero values take the defaults.
type FetchOptions struct {
	Client       *http.Client // default http.DefaultClient
	Progress     Progress     // optional
	ArchiveURL   string       // default ArchiveURL (its digest is ArchiveSHA256)
	WordIndexURL string       // default WordIndexURL
}

// hint tells a user without network how to provide the files instead.
const hint = "without network, copy the files from a folder holding " + ArchiveName + " (or " + LabeledArchiveName +
	") and " + WordIndexName + " with `birnn data fetch --from DIR`, or point BIRNN_DATA (--data) at that folder"

// FetchIMDB downloads aclImdb_v1.tar.gz and imdb_word_index.json into dir
// (created if needed) with Download: resumed, checked, renamed into place.
// Files already present with the right digest are not fetched again.
func FetchIMDB(ctx context.Context, dir string, o FetchOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	aurl, wurl := o.ArchiveURL, o.WordIndexURL
	if aurl == "" {
		aurl = ArchiveURL
	}
	if wurl == "" {
		wurl = WordIndexURL
	}
	for _, f := range []struct{ url, name, sum string }{
		{wurl, WordIndexName, WordIndexSHA256},
		{aurl, ArchiveName, ArchiveSHA256},
	} {
		if err := Download(ctx, o.Client, f.url, filepath.Join(dir, f.name), f.sum, o.Progress); err != nil {
			if errors.Is(err, ErrDownload) {
				return fmt.Errorf("%w; %s", err, hint)
			}
			return err
		}
	}
	return nil
}

// Download fetches url into dest, checking its SHA-256 against sum (hex).
//
// Bytes go to dest+".part"; a .part left by an interrupted run is resumed
// with an HTTP Range request (a server that ignores Range restarts it).
// On success the .part is synced and renamed to dest, so dest is either
// absent or complete. A dest already holding sum is left alone. Errors:
// ErrDownload (network, HTTP status), ErrChecksum (the .part is removed).
func Download(ctx context.Context, client *http.Client, url, dest, sum string, progress Progress) error {
	if client == nil {
		client = http.DefaultClient
	}
	name := filepath.Base(dest)
	if got, err := fileSHA256(dest); err == nil && got == sum {
		return nil
	}
	part := dest + ".part"
	for attempt := 0; attempt < 2; attempt++ {
		restart, err := downloadPart(ctx, client, url, part, name, progress)
		if err != nil {
			return err
		}
		if restart {
			continue
		}
		got, err := fileSHA256(part)
		if err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		if got != sum {
			os.Remove(part)
			return fmt.Errorf("%w: %s from %s: sha256 %s, want %s", ErrChecksum, name, url, got, sum)
		}
		if err := os.Rename(part, dest); err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		return nil
	}
	return fmt.Errorf("%w: %s: the server rejected resuming twice", ErrDownload, url)
}

// downloadPart appends the rest of url to part. restart reports that the
// .part was discarded (the server answered 416 to a Range) and the caller
// should try again from scratch.
func downloadPart(ctx context.Context, client *http.Client, url, part, name string, progress Progress) (restart bool, err error) {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrDownload, err)
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, transferErr(ctx, url, err, "")
	}
	defer resp.Body.Close()
	flags := os.O_CREATE | os.O_WRONLY
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0 && contentRangeStart(resp.Header.Get("Content-Range")) == have:
		flags |= os.O_APPEND
	case resp.StatusCode == http.StatusPartialContent:
		// A range other than the one asked for: start over.
		os.Remove(part)
		return true, nil
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC // a server without Range support sends it all
		have = 0
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// The .part is as long as the file or longer; its digest decides,
		// and a wrong one starts over.
		if resp.ContentLength >= 0 {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		}
		if total := contentRangeTotal(resp.Header.Get("Content-Range")); total == have {
			return false, nil
		}
		os.Remove(part)
		return true, nil
	default:
		return false, fmt.Errorf("%w: GET %s: %s", ErrDownload, url, resp.Status)
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return false, fmt.Errorf("dataset: %w", err)
	}
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	}
	w := &progressWriter{w: f, name: name, done: have, total: total, fn: progress}
	if progress != nil {
		progress(name, have, total)
	}
	_, cerr := io.Copy(w, resp.Body)
	serr := f.Sync()
	if err := f.Close(); err != nil && cerr == nil {
		cerr = err
	}
	if cerr != nil {
		return false, transferErr(ctx, url, cerr, part)
	}
	if serr != nil {
		return false, fmt.Errorf("dataset: %w", serr)
	}
	if total >= 0 && w.done != total {
		return false, fmt.Errorf("%w: GET %s: got %d of %d bytes", ErrDownload, url, w.done, total)
	}
	return false, nil
}

// transferErr classifies the failure err of a transfer from url. The
// caller's own cancellation (Ctrl-C, a deadline) is returned as ctx.Err()
// — errors.Is(err, context.Canceled) — and is not a download failure; any
// other error wraps ErrDownload (and err). part, when set, is the partial
// file kept for the next attempt.
func transferErr(ctx context.Context, url string, err error, part string) error {
	kept := ""
	if part != "" {
		kept = " (the partial file " + part + " is kept and resumed next time)"
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("dataset: GET %s: %w%s", url, cerr, kept)
	}
	return fmt.Errorf("%w: GET %s: %w%s", ErrDownload, url, err, kept)
}

// contentRangeStart parses "bytes START-END/TOTAL"; −1 when malformed.
func contentRangeStart(h string) int64 {
	s, ok := strings.CutPrefix(h, "bytes ")
	start, _, ok2 := strings.Cut(s, "-")
	return parseCount(start, ok && ok2)
}

// contentRangeTotal parses the TOTAL of "bytes */TOTAL"; −1 when unknown.
func contentRangeTotal(h string) int64 {
	_, t, ok := strings.Cut(h, "/")
	return parseCount(t, ok)
}

// parseCount is s as a byte count, −1 when !ok or s is not a number.
func parseCount(s string, ok bool) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil {
		return -1
	}
	return n
}

type progressWriter struct {
	w           io.Writer
	name        string
	done, total int64
	fn          Progress
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.fn != nil {
		p.fn(p.name, p.done, p.total)
	}
	return n, err
}

func fileSHA256(path string) (string, error) {
	f, err := open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// VerifySHA256 checks the file at path against the hex digest want;
// a mismatch is ErrChecksum, a missing file ErrNotFound.
func VerifySHA256(path, want string) error {
	got, err := fileSHA256(path)
	if err != nil {
		return err // ErrNotFound for a missing file
	}
	if got != want {
		return fmt.Errorf("%w: %s: sha256 %s, want %s", ErrChecksum, path, got, want)
	}
	return nil
}

// FromDir provides the IMDB inputs from a local folder src (or src/imdb)
// instead of the network: it verifies the archive (aclImdb_v1.tar.gz or
// aclImdb_v1_labeled.tar.gz, each against its own published digest) and
// imdb_word_index.json, and copies them into dir through a temporary
// file and a rename. When src and dir are the same folder the files are
// only verified. Errors: ErrNotFound naming what is missing, ErrChecksum.
func FromDir(src, dir string, progress Progress) error {
	var word, archive, archiveSum string
	for _, d := range []string{src, filepath.Join(src, "imdb")} {
		if word == "" && isFile(filepath.Join(d, WordIndexName)) {
			word = filepath.Join(d, WordIndexName)
		}
		if archive == "" {
			for _, a := range []struct{ name, sum string }{{LabeledArchiveName, LabeledArchiveSHA256}, {ArchiveName, ArchiveSHA256}} {
				if p := filepath.Join(d, a.name); isFile(p) {
					archive, archiveSum = p, a.sum
					break
				}
			}
		}
	}
	if word == "" || archive == "" {
		return fmt.Errorf("%w: %s (or %s/imdb) must hold %s and %s or %s", ErrNotFound, src, src, WordIndexName, ArchiveName, LabeledArchiveName)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	for _, f := range []struct{ path, sum string }{{word, WordIndexSHA256}, {archive, archiveSum}} {
		dest := filepath.Join(dir, filepath.Base(f.path))
		if err := copyVerified(f.path, dest, f.sum, progress); err != nil {
			return err
		}
	}
	return nil
}

// copyVerified copies src to dest atomically (internal/atomicfile: a
// temporary file, fsync, mode 0644, rename) while hashing it; a digest
// other than sum leaves dest untouched and is ErrChecksum.
func copyVerified(src, dest, sum string, progress Progress) error {
	if same, _ := sameFile(src, dest); same {
		return VerifySHA256(src, sum)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	var copyErr error // the copy's own failure, already described
	err = atomicfile.Write(dest, func(w io.Writer) error {
		h := sha256.New()
		pw := &progressWriter{w: io.MultiWriter(w, h), name: filepath.Base(dest), total: st.Size(), fn: progress}
		if _, err := io.Copy(pw, in); err != nil {
			copyErr = fmt.Errorf("dataset: copying %s: %w", src, err)
		} else if got := hexSum(h); got != sum {
			copyErr = fmt.Errorf("%w: %s: sha256 %s, want %s", ErrChecksum, src, got, sum)
		}
		return copyErr
	})
	switch {
	case copyErr != nil:
		return copyErr
	case err != nil:
		return fmt.Errorf("dataset: %w", err)
	}
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}
