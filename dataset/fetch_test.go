package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// fileServer serves body at /f (with Range support unless noRange) and
// records the Range header of each request.
type fileServer struct {
	body    []byte
	noRange bool
	mu      sync.Mutex
	ranges  []string
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	if r.URL.Path != "/f" {
		http.NotFound(w, r)
		return
	}
	if s.noRange {
		w.Write(s.body)
		return
	}
	http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(s.body))
}

func testBody() []byte {
	b := make([]byte, 300_000)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestDownloadFresh(t *testing.T) {
	body := testBody()
	fs := &fileServer{body: body}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "f.bin")
	var last, total int64
	err := Download(context.Background(), srv.Client(), srv.URL+"/f", dest, sha(body), func(name string, done, tot int64) {
		last, total = done, tot
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dest)
	if !bytes.Equal(got, body) {
		t.Fatal("downloaded bytes differ")
	}
	if last != int64(len(body)) || total != int64(len(body)) {
		t.Errorf("progress ended at %d/%d, want %d/%d", last, total, len(body), len(body))
	}
	if _, err := os.Stat(dest + ".part"); !os.IsNotExist(err) {
		t.Errorf(".part left behind: %v", err)
	}
	// A complete file is not fetched again.
	n := len(fs.ranges)
	if err := Download(context.Background(), srv.Client(), srv.URL+"/f", dest, sha(body), nil); err != nil {
		t.Fatal(err)
	}
	if len(fs.ranges) != n {
		t.Errorf("complete file fetched again")
	}
}

func TestDownloadResumes(t *testing.T) {
	body := testBody()
	for _, noRange := range []bool{false, true} {
		fs := &fileServer{body: body, noRange: noRange}
		srv := httptest.NewServer(fs)
		dest := filepath.Join(t.TempDir(), "f.bin")
		if err := os.WriteFile(dest+".part", body[:123_456], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Download(context.Background(), srv.Client(), srv.URL+"/f", dest, sha(body), nil); err != nil {
			t.Fatalf("noRange=%v: %v", noRange, err)
		}
		got, _ := os.ReadFile(dest)
		if !bytes.Equal(got, body) {
			t.Errorf("noRange=%v: bytes differ after resume", noRange)
		}
		if len(fs.ranges) != 1 || fs.ranges[0] != "bytes=123456-" {
			t.Errorf("noRange=%v: requests with Range %q, want one with bytes=123456-", noRange, fs.ranges)
		}
		srv.Close()
	}
}

// A .part already as long as the file gets 416; its digest decides.
func TestDownloadCompletePart(t *testing.T) {
	body := testBody()
	fs := &fileServer{body: body}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "f.bin")
	os.WriteFile(dest+".part", body, 0o644)
	if err := Download(context.Background(), srv.Client(), srv.URL+"/f", dest, sha(body), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, body) {
		t.Error("bytes differ")
	}
	// A longer, wrong .part is discarded and the file fetched whole.
	dest2 := filepath.Join(t.TempDir(), "g.bin")
	os.WriteFile(dest2+".part", append(bytes.Clone(body), 1, 2, 3), 0o644)
	if err := Download(context.Background(), srv.Client(), srv.URL+"/f", dest2, sha(body), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest2); !bytes.Equal(got, body) {
		t.Error("bytes differ after restart")
	}
}

func TestDownloadErrors(t *testing.T) {
	body := testBody()
	srv := httptest.NewServer(&fileServer{body: body})
	defer srv.Close()
	dir := t.TempDir()

	dest := filepath.Join(dir, "bad.bin")
	err := Download(context.Background(), srv.Client(), srv.URL+"/f", dest, strings.Repeat("0", 64), nil)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), sha(body)) {
		t.Errorf("bad checksum: %v", err)
	}
	for _, p := range []string{dest, dest + ".part"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after a checksum failure", p)
		}
	}

	err = Download(context.Background(), srv.Client(), srv.URL+"/missing", filepath.Join(dir, "m"), sha(body), nil)
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}

	// No network: nothing listens there.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	err = FetchIMDB(context.Background(), dir, FetchOptions{ArchiveURL: url + "/a", WordIndexURL: url + "/w"})
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "--from DIR") || !strings.Contains(err.Error(), "BIRNN_DATA") {
		t.Errorf("no network: %v", err)
	}
}

// FetchIMDB checks the word index against its published digest; the real
// file (from the shared data) passes and lands in the folder.
func TestFetchIMDBWordIndex(t *testing.T) {
	real, err := os.ReadFile(filepath.Join(imdbDir(t), WordIndexName))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/w", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "w", time.Time{}, bytes.NewReader(real))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	err = FetchIMDB(context.Background(), dir, FetchOptions{Client: srv.Client(), ArchiveURL: srv.URL + "/a", WordIndexURL: srv.URL + "/w"})
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "404") {
		t.Errorf("archive 404: %v", err)
	}
	if err := VerifyMD5(filepath.Join(dir, WordIndexName), WordIndexMD5); err != nil {
		t.Errorf("word index: %v", err)
	}
}

func TestFromDir(t *testing.T) {
	src := sharedData(t) // the folder holding imdb/: FromDir looks in src/imdb too
	dir := t.TempDir()
	if err := FromDir(src, dir, nil); err != nil {
		t.Fatal(err)
	}
	if err := VerifySHA256(filepath.Join(dir, LabeledArchiveName), LabeledArchiveSHA256); err != nil {
		t.Error(err)
	}
	if err := VerifySHA256(filepath.Join(dir, WordIndexName), WordIndexSHA256); err != nil {
		t.Error(err)
	}
	// Copies keep the normal mode of a written file, not CreateTemp's 0600.
	for _, n := range []string{LabeledArchiveName, WordIndexName} {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v (%v), want 0644", n, st.Mode().Perm(), err)
		}
	}
	// Verifying in place.
	if err := FromDir(dir, dir, nil); err != nil {
		t.Errorf("in place: %v", err)
	}
}

func TestFromDirErrors(t *testing.T) {
	empty := t.TempDir()
	if err := FromDir(empty, t.TempDir(), nil); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), WordIndexName) {
		t.Errorf("empty: %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, WordIndexName), []byte(`{"the": 1}`), 0o644)
	os.WriteFile(filepath.Join(bad, ArchiveName), []byte("not the archive"), 0o644)
	dest := t.TempDir()
	err := FromDir(bad, dest, nil)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), WordIndexName) {
		t.Errorf("wrong files: %v", err)
	}
	if ents, _ := os.ReadDir(dest); len(ents) != 0 {
		t.Errorf("files left in the destination: %v", ents)
	}
}

// An interrupted transfer keeps its .part, and the next call resumes it.
func TestDownloadInterruptedThenResumed(t *testing.T) {
	body := testBody()
	half := len(body) / 2
	ctx, cancel := context.WithCancel(context.Background())
	stall := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body[:half])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stall until the client gives up
	})
	srv := httptest.NewServer(stall)
	dest := filepath.Join(t.TempDir(), "f.bin")
	var seen int64
	err := Download(ctx, srv.Client(), srv.URL, dest, sha(body), func(_ string, done, _ int64) {
		seen = done
		if done >= int64(half) {
			cancel() // interrupted mid-body
		}
	})
	srv.Close()
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), ".part") {
		t.Fatalf("interrupted: %v, want context.Canceled naming the kept .part", err)
	}
	st, err := os.Stat(dest + ".part")
	if err != nil || st.Size() == 0 || st.Size() != seen {
		t.Fatalf(".part after interruption: %v (progress saw %d)", err, seen)
	}
	fs := &fileServer{body: body}
	srv2 := httptest.NewServer(fs)
	defer srv2.Close()
	if err := Download(context.Background(), srv2.Client(), srv2.URL+"/f", dest, sha(body), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, body) {
		t.Error("bytes differ after resuming")
	}
	if want := fmt.Sprintf("bytes=%d-", st.Size()); len(fs.ranges) != 1 || fs.ranges[0] != want {
		t.Errorf("resume requests %q, want one with %s", fs.ranges, want)
	}
}

// TestFetchCanceled interrupts a download as Ctrl-C does: the error is the
// cancellation (errors.Is context.Canceled), not a download failure with
// the hint to copy the files by hand, and the .part is kept for resuming.
func TestFetchCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 4096))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the rest never comes
	}))
	defer srv.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	err := FetchIMDB(ctx, dir, FetchOptions{ArchiveURL: srv.URL + "/a", WordIndexURL: srv.URL + "/w",
		Progress: func(_ string, done, _ int64) {
			if done > 0 {
				cancel() // Ctrl-C mid-transfer
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrDownload) || strings.Contains(err.Error(), "--from") {
		t.Errorf("a cancellation reported as a failed download with the copy hint: %v", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, WordIndexName+".part")); serr != nil {
		t.Errorf("the partial file was not kept: %v", serr)
	}
	// Cancelled before connecting.
	if err := Download(ctx, nil, srv.URL+"/w", filepath.Join(dir, "x"), "00", nil); !errors.Is(err, context.Canceled) || errors.Is(err, ErrDownload) {
		t.Errorf("already cancelled: err = %v, want context.Canceled only", err)
	}
	// A real network failure is still a download error with the hint.
	srv.Close()
	err = FetchIMDB(context.Background(), t.TempDir(), FetchOptions{ArchiveURL: srv.URL + "/a", WordIndexURL: srv.URL + "/w"})
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "--from") {
		t.Errorf("server gone: err = %v, want ErrDownload with the hint", err)
	}
}
