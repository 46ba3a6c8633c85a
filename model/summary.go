package model

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// LayerSummary is one row of the Keras-style summary.
type LayerSummary struct {
	Name        string // embedding, lstm_<i>, dense_<i>: the weight prefix
	Kind        string // Keras class: Embedding, LSTM, GRU, SimpleRNN, Bidirectional, Dense
	OutputShape []int  // -1 = None (batch, and sequence length)
	Params      int    // Keras count (see LayerSpec.Params)
}

// Summarize returns the Keras-style rows of m (embedding first) and the
// total parameter count, which equals Keras's: 322,113 for deep_lstm,
// 322,177 for bilstm, 420,993 for the deep BiLSTMs, 343,233 for Bi-GRU(64,
// sequences) → GRU(64) → Dense(1) on the study's embedding. It returns nil, 0 when
// m.Config is not a valid architecture (see Layers).
func Summarize(m *Model) ([]LayerSummary, int) {
	layers, err := Layers(m.Config)
	if err != nil {
		return nil, 0
	}
	e := m.Config.Model.Embedding
	rows := []LayerSummary{{
		Name: "embedding", Kind: "Embedding",
		OutputShape: []int{-1, -1, e.Dim},
		Params:      m.Config.Data.NumWords * e.Dim,
	}}
	total := rows[0].Params
	for _, l := range layers {
		r := LayerSummary{Name: l.Name, Params: l.Params(), OutputShape: []int{-1, l.Out}}
		if l.ReturnSequences {
			r.OutputShape = []int{-1, -1, l.Out}
		}
		switch {
		case l.Kind == KindDense:
			r.Kind = "Dense"
		case l.Dirs == 2:
			r.Kind = "Bidirectional"
		default:
			r.Kind = kerasClass[l.Kind]
		}
		rows = append(rows, r)
		total += r.Params
	}
	return rows, total
}

var kerasClass = map[string]string{
	KindLSTM: "LSTM", KindGRU: "GRU", KindSimpleRNN: "SimpleRNN", KindDropout: "Dropout",
	KindSpatialDropout: "SpatialDropout1D", KindGlobalMaxPool: "GlobalMaxPooling1D", KindGlobalAveragePool: "GlobalAveragePooling1D",
}

// summaryWidth and summaryCols are Keras's (TF 2.3) layout for a
// Sequential model: 65 characters, columns ending at 45 %, 85 %, 100 %.
const summaryWidth = 65

var summaryCols = [3]int{29, 55, 65}

// WriteSummary writes the Keras-style table of m (the layout of
// model.summary() in the study, without trailing spaces): one row per
// layer with its output shape and parameter count, then the totals. All
// parameters are trainable. An invalid m.Config is an error.
func WriteSummary(w io.Writer, m *Model) error {
	if _, err := Layers(m.Config); err != nil {
		return err
	}
	rows, total := Summarize(m)
	name := m.Config.Name
	if name == "" {
		name = "sequential"
	}
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Model: %q\n", name)
	fmt.Fprintln(ew, strings.Repeat("_", summaryWidth))
	fmt.Fprintln(ew, summaryRow("Layer (type)", "Output Shape", "Param #"))
	fmt.Fprintln(ew, strings.Repeat("=", summaryWidth))
	for i, r := range rows {
		fmt.Fprintln(ew, summaryRow(r.Name+" ("+r.Kind+")", shapeString(r.OutputShape), strconv.Itoa(r.Params)))
		if i == len(rows)-1 {
			fmt.Fprintln(ew, strings.Repeat("=", summaryWidth))
		} else {
			fmt.Fprintln(ew, strings.Repeat("_", summaryWidth))
		}
	}
	fmt.Fprintf(ew, "Total params: %s\n", commas(total))
	fmt.Fprintf(ew, "Trainable params: %s\n", commas(total))
	fmt.Fprintf(ew, "Non-trainable params: 0\n")
	fmt.Fprintln(ew, strings.Repeat("_", summaryWidth))
	if ew.err != nil {
		return fmt.Errorf("model: summary: %w", ew.err)
	}
	return nil
}

// summaryRow lays fields out as Keras's print_row does: each field is cut
// at its column end, and the character before the next field is a space.
func summaryRow(fields ...string) string {
	line := ""
	for i, f := range fields {
		if i > 0 {
			line = line[:len(line)-1] + " "
		}
		line += f
		if len(line) > summaryCols[i] {
			line = line[:summaryCols[i]]
		}
		line += strings.Repeat(" ", summaryCols[i]-len(line))
	}
	return strings.TrimRight(line, " ")
}

// shapeString renders a shape as Keras does: (None, None, 64).
func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "None"
		} else {
			parts[i] = strconv.Itoa(d)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// commas formats n with thousands separators, as Python's "{:,}".
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
