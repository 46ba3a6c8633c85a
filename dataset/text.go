package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Formats of labelled text files.
const (
	CSV   = "csv"   // comma-separated, header row, RFC 4180 quoting
	TSV   = "tsv"   // tab-separated, header row, quotes taken literally
	JSONL = "jsonl" // one JSON object per line
)

// TextOptions say how to read a labelled text file.
type TextOptions struct {
	// Format is CSV, TSV or JSONL; "" picks it from the extension (.csv,
	// .tsv/.tab, .jsonl/.ndjson).
	Format string
	// TextColumn and LabelColumn name the columns (CSV/TSV header) or keys
	// (JSONL); defaults "text" and "label". A name may list alternatives
	// separated by "|" ("sentence|content"): the first one present is
	// used, so splits whose headers differ read with one setting.
	TextColumn, LabelColumn string
	// Labels maps label values to classes, e.g. ParseLabelMap
	// ("positive=1,negative=0"). Nil means labels must be integers.
	Labels map[string]int32
}

// TextRecord is one labelled text.
type TextRecord struct {
	Text  string
	Label int32
	Line  int    // line of the record in its file, from 1 (0 for a file per record)
	Name  string // the record's file under its split's folder (ReadClassFolders)
}

// ParseLabelMap parses "name=class,name=class" (e.g. "positive=1,negative=0")
// into a label mapping. Malformed pairs are ErrOption.
func ParseLabelMap(s string) (map[string]int32, error) {
	m := map[string]int32{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if !ok || k == "" || err != nil {
			return nil, fmt.Errorf("%w: label mapping %q: want name=integer pairs separated by commas", ErrOption, pair)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%w: label mapping: %q given twice", ErrOption, k)
		}
		m[k] = int32(n)
	}
	return m, nil
}

// ReadLabeledText reads all records of a CSV, TSV or JSON-lines file. A
// missing file is ErrNotFound; a missing column, a row without the text
// or label, or a label outside the mapping is ErrFormat (with the line);
// a file without records is ErrEmpty.
func ReadLabeledText(path string, o TextOptions) ([]TextRecord, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	format := o.Format
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			format = CSV
		case ".tsv", ".tab":
			format = TSV
		case ".jsonl", ".ndjson":
			format = JSONL
		default:
			return nil, fmt.Errorf("%w: %s: cannot tell the format from the extension; give csv, tsv or jsonl", ErrOption, path)
		}
	}
	if o.TextColumn == "" {
		o.TextColumn = "text"
	}
	if o.LabelColumn == "" {
		o.LabelColumn = "label"
	}
	var recs []TextRecord
	switch format {
	case CSV, TSV:
		recs, err = readDelimited(f, format, o)
	case JSONL:
		recs, err = readJSONL(f, o)
	default:
		return nil, fmt.Errorf("%w: format %q (want csv, tsv or jsonl)", ErrOption, format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: %s holds no records", ErrEmpty, path)
	}
	return recs, nil
}

func (o TextOptions) label(v string, line int) (int32, error) {
	if o.Labels != nil {
		c, ok := o.Labels[v]
		if !ok {
			known := make([]string, 0, len(o.Labels))
			for k := range o.Labels {
				known = append(known, k)
			}
			slices.Sort(known)
			return 0, fmt.Errorf("%w: line %d: label %q is not one of %s", ErrFormat, line, v, strings.Join(known, ", "))
		}
		return c, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: line %d: label %q is not an integer (give a label mapping such as positive=1,negative=0)", ErrFormat, line, v)
	}
	return int32(n), nil
}

func readDelimited(r io.Reader, format string, o TextOptions) ([]TextRecord, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if format == TSV {
		cr.Comma = '\t'
		cr.LazyQuotes = true
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	ti, li := firstColumn(header, o.TextColumn), firstColumn(header, o.LabelColumn)
	if ti < 0 || li < 0 {
		return nil, fmt.Errorf("%w: header has no column %q or %q (columns: %s)", ErrFormat, o.TextColumn, o.LabelColumn, strings.Join(header, ", "))
	}
	var recs []TextRecord
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) <= max(ti, li) {
			return nil, fmt.Errorf("%w: line %d has %d columns, want at least %d", ErrFormat, line, len(row), max(ti, li)+1)
		}
		lab, err := o.label(row[li], line)
		if err != nil {
			return nil, err
		}
		recs = append(recs, TextRecord{Text: row[ti], Label: lab, Line: line})
	}
}

func readJSONL(r io.Reader, o TextOptions) ([]TextRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	var recs []TextRecord
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, line, err)
		}
		rawText, ok1 := firstKey(obj, o.TextColumn)
		rawLab, ok2 := firstKey(obj, o.LabelColumn)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: line %d: no key %q or %q", ErrFormat, line, o.TextColumn, o.LabelColumn)
		}
		var text string
		if err := json.Unmarshal(rawText, &text); err != nil {
			return nil, fmt.Errorf("%w: line %d: %q is not a string", ErrFormat, line, o.TextColumn)
		}
		// A label may be a string, a number or a boolean; it is matched in
		// its JSON text form without quotes ("1", "true", "positive").
		var labStr string
		if err := json.Unmarshal(rawLab, &labStr); err != nil {
			labStr = string(bytes.TrimSpace(rawLab))
		}
		lab, err := o.label(labStr, line)
		if err != nil {
			return nil, err
		}
		recs = append(recs, TextRecord{Text: text, Label: lab, Line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return recs, nil
}

// firstColumn is the index in header of the first of the "|"-separated
// names alts, or -1.
func firstColumn(header []string, alts string) int {
	for _, name := range strings.Split(alts, "|") {
		if i := slices.Index(header, name); i >= 0 {
			return i
		}
	}
	return -1
}

// firstKey is obj's value of the first of the "|"-separated keys alts.
func firstKey(obj map[string]json.RawMessage, alts string) (json.RawMessage, bool) {
	for _, name := range strings.Split(alts, "|") {
		if v, ok := obj[name]; ok {
			return v, true
		}
	}
	return nil, false
}
