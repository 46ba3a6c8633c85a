package dataset

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Review is one labelled review of the IMDB folder tree, tokenized.
type Review struct {
	Name  string  // "train/pos/576_10.txt": split, label folder, file
	Label int32   // 1 for pos, 0 for neg
	Ranks []int32 // word-index ranks of its words, unknown words dropped
}

// Split returns "train" or "test", the first element of Name.
func (r Review) Split() string {
	s, _, _ := strings.Cut(r.Name, "/")
	return s
}

// ReadReviews reads the labelled reviews of an IMDB archive (.tar.gz,
// streamed, never unpacked to disk) or of an unpacked aclImdb folder, and
// tokenizes each with TextToWordSequence into ranks of wi.
//
// Only {train,test}/{pos,neg}/*.txt are read; train/unsup, the .feat files
// and the rest are skipped. Each split comes back in Keras's pre-shuffle
// order: pos before neg, file names sorted as strings. A split with no
// reviews is ErrNotFound; an unreadable archive is ErrCorrupt.
func ReadReviews(path string, wi WordIndex) (train, test []Review, err error) {
	return readReviews(path, func() (*wordTable, error) { return newWordTable(wi), nil })
}

// readReviews is ReadReviews with the word table built by table while the
// archive is already being read: parsing the index then overlaps with
// decompression, the serial part of the work.
func readReviews(path string, table func() (*wordTable, error)) (train, test []Review, err error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	var all []Review
	if st.IsDir() {
		all, err = readFolder(path, table)
	} else {
		all, err = readArchive(path, table)
	}
	if err != nil {
		return nil, nil, err
	}
	for _, r := range all {
		if strings.HasPrefix(r.Name, "train/") {
			train = append(train, r)
		} else {
			test = append(test, r)
		}
	}
	for _, s := range []struct {
		name string
		rs   []Review
	}{{"train", train}, {"test", test}} {
		if len(s.rs) == 0 {
			return nil, nil, fmt.Errorf("%w: %s holds no %s reviews (%s/{pos,neg}/*.txt)", ErrNotFound, path, s.name, s.name)
		}
		slices.SortFunc(s.rs, compareReviews)
	}
	return train, test, nil
}

// compareReviews orders pos before neg, then by file name as strings.
func compareReviews(a, b Review) int {
	if a.Label != b.Label {
		return int(b.Label - a.Label)
	}
	return strings.Compare(a.Name, b.Name)
}

// reviewName maps an archive or folder path to "split/label/file.txt"; ok
// is false for anything that is not a labelled review.
func reviewName(p string) (name string, label int32, ok bool) {
	p = strings.TrimPrefix(p, "./")
	p = strings.TrimPrefix(p, FolderName+"/")
	split, rest, ok1 := strings.Cut(p, "/")
	lab, file, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || (split != "train" && split != "test") || !strings.HasSuffix(file, ".txt") || strings.Contains(file, "/") {
		return "", 0, false
	}
	switch lab {
	case "pos":
		label = 1
	case "neg":
		label = 0
	default:
		return "", 0, false
	}
	return p, label, true
}

// chunk is a batch of review files, read by one goroutine and tokenized by
// another: the bodies back to back in buf, then their ranks in arena.
type chunk struct {
	buf   []byte
	ents  []chunkEntry
	arena []int32
}

type chunkEntry struct {
	name     string
	label    int32
	off, end int // body in buf, then ranks in arena
}

const chunkBytes = 256 << 10

func (c *chunk) tokenize(wt *wordTable) {
	arena := make([]int32, 0, len(c.buf)/5)
	for i := range c.ents {
		e := &c.ents[i]
		start := len(arena)
		arena = tokenizeRanks(arena, c.buf[e.off:e.end], wt)
		e.off, e.end = start, len(arena)
	}
	c.arena = arena
}

func (c *chunk) reviews(dst []Review) []Review {
	for _, e := range c.ents {
		dst = append(dst, Review{Name: e.name, Label: e.label, Ranks: c.arena[e.off:e.end:e.end]})
	}
	return dst
}

// pipeline tokenizes chunks on all cores while the producer reads. The
// workers start once the word table is ready; chunks read before then wait
// in the jobs queue.
type pipeline struct {
	wt     *wordTable
	werr   error         // from building wt; set before ready is closed
	ready  chan struct{} // closed when wt (or werr) is set
	jobs   chan *chunk
	free   chan []byte
	wg     sync.WaitGroup
	chunks []*chunk
}

func newPipeline(table func() (*wordTable, error)) *pipeline {
	n := runtime.GOMAXPROCS(0)
	p := &pipeline{ready: make(chan struct{}), jobs: make(chan *chunk, 64), free: make(chan []byte, 2*n+2)}
	go func() {
		p.wt, p.werr = table()
		close(p.ready)
	}()
	for range n {
		p.wg.Go(func() {
			<-p.ready
			for c := range p.jobs {
				if p.werr != nil {
					continue
				}
				c.tokenize(p.wt)
				select {
				case p.free <- c.buf[:0]:
				default:
				}
				c.buf = nil
			}
		})
	}
	return p
}

// failed reports that the word table could not be built, so reading on is
// pointless.
func (p *pipeline) failed() bool {
	select {
	case <-p.ready:
		return p.werr != nil
	default:
		return false
	}
}

func (p *pipeline) newChunk() *chunk {
	select {
	case b := <-p.free:
		return &chunk{buf: b}
	default:
		return &chunk{buf: make([]byte, 0, chunkBytes+64<<10)}
	}
}

func (p *pipeline) send(c *chunk) {
	if len(c.ents) == 0 {
		return
	}
	p.chunks = append(p.chunks, c)
	p.jobs <- c
}

// result sends the last chunk, waits for the workers and returns the
// reviews, or the first error: the word table's, else the reader's rerr.
func (p *pipeline) result(last *chunk, rerr error) ([]Review, error) {
	p.send(last)
	out, werr := p.finish()
	if werr != nil {
		return nil, werr
	}
	if rerr != nil {
		return nil, rerr
	}
	return out, nil
}

// finish waits for the workers and gathers the reviews in reading order.
func (p *pipeline) finish() ([]Review, error) {
	close(p.jobs)
	p.wg.Wait()
	<-p.ready
	if p.werr != nil {
		return nil, p.werr
	}
	n := 0
	for _, c := range p.chunks {
		n += len(c.ents)
	}
	out := make([]Review, 0, n)
	for _, c := range p.chunks {
		out = c.reviews(out)
	}
	return out, nil
}

// maxReviewBytes bounds one review body; the largest IMDB review is ~14 kB.
const maxReviewBytes = 1 << 24

// walkArchive streams the IMDB archive at path (.tar.gz, never unpacked to
// disk) and calls fn for every labelled review file ({train,test}/{pos,neg}/
// *.txt, see reviewName) in archive order, with its body of size bytes
// (at most maxReviewBytes) to read from body. fn returns done to stop the
// walk early; a walk that reaches the end of the tar also reads the gzip
// trailer, so a truncated or damaged stream is reported rather than
// ignored. Errors from the archive wrap ErrCorrupt; fn's are returned as
// they are. It is the one reader of the archive format, shared by
// ReadReviews and ReadTexts.
func walkArchive(path string, fn func(name string, label int32, size int, body io.Reader) (done bool, err error)) error {
	f, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %s: not a gzip stream: %v", ErrCorrupt, path, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name, label, ok := reviewName(hdr.Name)
		if !ok {
			continue
		}
		if hdr.Size < 0 || hdr.Size > maxReviewBytes {
			return fmt.Errorf("%w: %s: %s has size %d", ErrCorrupt, path, hdr.Name, hdr.Size)
		}
		done, err := fn(name, label, int(hdr.Size), &archiveBody{r: tr, path: path, name: hdr.Name})
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return nil
}

// archiveBody reads one file's body from the tar stream; a short read is
// ErrCorrupt naming the file.
type archiveBody struct {
	r          io.Reader
	path, name string
}

func (b *archiveBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %s: reading %s: %v", ErrCorrupt, b.path, b.name, err)
	}
	return n, err
}

func readArchive(path string, table func() (*wordTable, error)) ([]Review, error) {
	p := newPipeline(table)
	cur := p.newChunk()
	rerr := walkArchive(path, func(name string, label int32, size int, body io.Reader) (bool, error) {
		if p.failed() {
			return true, nil
		}
		off := len(cur.buf)
		cur.buf = slices.Grow(cur.buf, size)[:off+size]
		if _, err := io.ReadFull(body, cur.buf[off:]); err != nil {
			return false, fmt.Errorf("%w: %s: reading %s: %v", ErrCorrupt, path, name, err)
		}
		cur.ents = append(cur.ents, chunkEntry{name: name, label: label, off: off, end: len(cur.buf)})
		if len(cur.buf) >= chunkBytes {
			p.send(cur)
			cur = p.newChunk()
		}
		return false, nil
	})
	return p.result(cur, rerr)
}

func readFolder(root string, table func() (*wordTable, error)) ([]Review, error) {
	p := newPipeline(table)
	cur := p.newChunk()
	var rerr error
outer:
	for _, split := range []string{"train", "test"} {
		for _, lab := range []string{"pos", "neg"} {
			d := filepath.Join(root, split, lab)
			ents, err := os.ReadDir(d)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				rerr = fmt.Errorf("dataset: %w", err)
				break outer
			}
			for _, de := range ents {
				if p.failed() {
					break outer
				}
				name, label, ok := reviewName(split + "/" + lab + "/" + de.Name())
				if !ok || !de.Type().IsRegular() {
					continue
				}
				b, err := os.ReadFile(filepath.Join(d, de.Name()))
				if err != nil {
					rerr = fmt.Errorf("dataset: %w", err)
					break outer
				}
				off := len(cur.buf)
				cur.buf = append(cur.buf, b...)
				cur.ents = append(cur.ents, chunkEntry{name: name, label: label, off: off, end: len(cur.buf)})
				if len(cur.buf) >= chunkBytes {
					p.send(cur)
					cur = p.newChunk()
				}
			}
		}
	}
	return p.result(cur, rerr)
}
