package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/configs"
	"github.com/birnn/birnn/dataset"
)

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Fetch, describe and export the IMDB dataset (Keras imdb.load_data)",
		Long: "The IMDB reviews and Keras's word index live in the data folder (--data, else\n" +
			"$BIRNN_DATA_DIR or $BIRNN_DATA, else ./data; an imdb/ subfolder is searched too):\n" +
			"aclImdb_v1.tar.gz, aclImdb_v1_labeled.tar.gz or an unpacked aclImdb/ folder, plus\n" +
			"imdb_word_index.json. `birnn data fetch` puts them there.",
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(newDataFetchCmd(), newDataInfoCmd(), newDataShowCmd(), newDataSequencesCmd())
	return cmd
}

func newDataFetchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fetch [--from DIR]",
		Short: "Download the IMDB archive and word index (or copy them from DIR), checking their SHA-256",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := dataDir(cmd)
			from, _ := cmd.Flags().GetString("from")
			bar := newProgressBar(cmd.ErrOrStderr())
			var err error
			if from != "" {
				err = dataset.FromDir(from, dir, bar.update)
			} else {
				err = dataset.FetchIMDB(cmd.Context(), dir, dataset.FetchOptions{Progress: bar.update})
			}
			bar.done()
			if err != nil {
				return err
			}
			files, err := dataset.Locate(dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reviews:    %s\nword index: %s\n", files.Reviews, files.WordIndex)
			return nil
		},
	}
	cmd.Flags().String("from", "", "copy and verify the files from this folder instead of downloading")
	return cmd
}

// progressBar draws one line per file on a terminal and stays silent
// otherwise (logs and pipes get no carriage returns).
type progressBar struct {
	w        io.Writer
	on       bool
	name     string
	lastTick int64
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, on: isTerminal(w), lastTick: -1}
}

func (p *progressBar) update(name string, done, total int64) {
	if !p.on {
		return
	}
	if name != p.name {
		if p.name != "" {
			fmt.Fprintln(p.w)
		}
		p.name, p.lastTick = name, -1
	}
	tick := done >> 20 // redraw once per MiB
	if tick == p.lastTick && done != total {
		return
	}
	p.lastTick = tick
	if total > 0 {
		const width = 30
		n := int(done * width / total)
		fmt.Fprintf(p.w, "\r%-26s [%s%s] %5.1f%% %6.1f/%.1f MiB", name, strings.Repeat("=", n), strings.Repeat(" ", width-n),
			100*float64(done)/float64(total), float64(done)/(1<<20), float64(total)/(1<<20))
	} else {
		fmt.Fprintf(p.w, "\r%-26s %6.1f MiB", name, float64(done)/(1<<20))
	}
}

func (p *progressBar) done() {
	if p.on && p.name != "" {
		fmt.Fprintln(p.w)
	}
}

// addLoadFlags adds the load_data options shared by the data subcommands.
func addLoadFlags(cmd *cobra.Command) {
	d := dataset.DefaultLoadOptions()
	def := configs.Defaults().Data
	cmd.Flags().Int("num-words", def.NumWords, "keep the ids below this (num_words; 0 = all)")
	cmd.Flags().Int("skip-top", d.SkipTop, "turn the ids below this into the out-of-vocabulary id (skip_top)")
	cmd.Flags().Int64("seed", d.Seed, "shuffle seed (numpy RandomState)")
}

func loadOptions(cmd *cobra.Command) dataset.LoadOptions {
	o := dataset.DefaultLoadOptions()
	o.NumWords, _ = cmd.Flags().GetInt("num-words")
	o.SkipTop, _ = cmd.Flags().GetInt("skip-top")
	o.Seed, _ = cmd.Flags().GetInt64("seed")
	return o
}

// addPadFlags adds the pad_sequences options (the study's defaults).
func addPadFlags(cmd *cobra.Command) {
	def := configs.Defaults().Data
	cmd.Flags().Int("maxlen", def.MaxLen, "pad or truncate rows to this length (0 = longest row)")
	cmd.Flags().String("padding", def.Padding, "where padding goes: pre or post")
	cmd.Flags().String("truncating", def.Truncating, "where long rows lose tokens: pre (keep the last maxlen) or post")
}

func padOptions(cmd *cobra.Command) (maxlen int, padding, truncating string, err error) {
	maxlen, _ = cmd.Flags().GetInt("maxlen")
	padding, _ = cmd.Flags().GetString("padding")
	truncating, _ = cmd.Flags().GetString("truncating")
	if maxlen < 0 {
		return 0, "", "", usagef("--maxlen %d: must be 0 or more", maxlen)
	}
	for _, v := range []struct{ flag, val string }{{"padding", padding}, {"truncating", truncating}} {
		if v.val != dataset.Pre && v.val != dataset.Post {
			return 0, "", "", usagef("--%s %q: want pre or post", v.flag, v.val)
		}
	}
	return maxlen, padding, truncating, nil
}

func splitFlag(cmd *cobra.Command) (string, error) {
	s, _ := cmd.Flags().GetString("split")
	if s != "train" && s != "test" {
		return "", usagef("--split %q: want train or test", s)
	}
	return s, nil
}

// loadSplits locates the IMDB files in the data folder and loads both
// splits with o.
func loadSplits(cmd *cobra.Command, o dataset.LoadOptions) (files dataset.Files, train, test *dataset.Split, err error) {
	dir := dataDir(cmd)
	if files, err = dataset.Locate(dir); err != nil {
		return files, nil, nil, err
	}
	train, test, err = dataset.LoadData(dir, o)
	return files, train, test, err
}

func newDataInfoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Rows per split and label, sequence lengths before and after padding",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			maxlen, padding, truncating, err := padOptions(cmd)
			if err != nil {
				return err
			}
			o := loadOptions(cmd)
			files, train, test, err := loadSplits(cmd, o)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(cmd.OutOrStdout(), "reviews:    %s\nword index: %s\nnum_words %d, seed %d\n\n", files.Reviews, files.WordIndex, o.NumWords, o.Seed)
			fmt.Fprintln(w, "split\trows\tpos\tneg\tids\toov\t")
			stats := map[string]dataset.Stats{}
			for _, s := range []struct {
				name string
				sp   *dataset.Split
			}{{"train", train}, {"test", test}} {
				st := s.sp.Stats(maxlen, int32(o.OOVChar))
				stats[s.name] = st
				fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%.1f%%\t\n", s.name, st.Rows, st.Pos, st.Neg, st.Tokens, 100*float64(st.OOV)/float64(max(st.Tokens, 1)))
			}
			fmt.Fprintf(w, "\t\t\t\t\t\t\n")
			fmt.Fprintf(w, "lengths\tmin\tmean\tmedian\tmax\t\t\n")
			for _, n := range []string{"train", "test"} {
				l := stats[n].Lengths
				fmt.Fprintf(w, "%s\t%d\t%.1f\t%.1f\t%d\t\t\n", n, l.Min, l.Mean, l.Median, l.Max)
			}
			fmt.Fprintf(w, "\t\t\t\t\t\t\n")
			fmt.Fprintf(w, "kept at maxlen %d\tmin\tmean\tmedian\tmax\ttruncated\t\n", maxlen)
			for _, n := range []string{"train", "test"} {
				st := stats[n]
				fmt.Fprintf(w, "%s\t%d\t%.1f\t%.1f\t%d\t%d\t\n", n, st.Kept.Min, st.Kept.Mean, st.Kept.Median, st.Kept.Max, st.Truncated)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			shape := func(st dataset.Stats) string {
				cols := maxlen
				if cols == 0 {
					cols = st.Lengths.Max // pad_sequences' maxlen=None: the longest row
				}
				return fmt.Sprintf("[%d, %d]", st.Rows, cols)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\npadding %s, truncating %s: train %s, test %s int32 (the start marker counts as a token)\n",
				padding, truncating, shape(stats["train"]), shape(stats["test"]))
			return nil
		},
	}
	addLoadFlags(cmd)
	addPadFlags(cmd)
	return cmd
}

func newDataShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show --split train --index 0",
		Short: "Print one row's ids, padded, and its words decoded through the word index",
		Long: long(`
			Print one row as the study's first cells do: the ids after load_data, the row after
			pad_sequences, and the words (id − 3 through the inverted word index). Ids with no word
			behind them — padding 0, start 1, out-of-vocabulary 2 — print as "?".`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			split, err := splitFlag(cmd)
			if err != nil {
				return err
			}
			index, _ := cmd.Flags().GetInt("index")
			maxlen, padding, truncating, err := padOptions(cmd)
			if err != nil {
				return err
			}
			o := loadOptions(cmd)
			files, train, test, err := loadSplits(cmd, o)
			if err != nil {
				return err
			}
			s := train
			if split == "test" {
				s = test
			}
			if index < 0 || index >= s.Len() {
				return usagef("--index %d: %s has rows 0 to %d", index, split, s.Len()-1)
			}
			wi, err := dataset.LoadWordIndex(files.WordIndex)
			if err != nil {
				return err
			}
			m, err := dataset.PadSequences(s.X[index:index+1], maxlen, padding, truncating, 0)
			if err != nil {
				return err
			}
			row := m.Row(0)
			out := bufio.NewWriter(cmd.OutOrStdout())
			fmt.Fprintf(out, "%s[%d]: %s, label %d\n", split, index, s.Files[index], s.Y[index])
			fmt.Fprintf(out, "ids (%d):\n%s\n", len(s.X[index]), joinInts(s.X[index]))
			fmt.Fprintf(out, "padded to %d (padding %s, truncating %s):\n%s\n", m.Cols, padding, truncating, joinInts(row))
			fmt.Fprintf(out, "words (%d):\n%s\n", len(row), strings.Join(wi.Decode(row, o.IndexFrom), " "))
			return out.Flush()
		},
	}
	cmd.Flags().String("split", "train", "train or test")
	cmd.Flags().Int("index", 0, "row number in Keras order")
	addLoadFlags(cmd)
	addPadFlags(cmd)
	return cmd
}

func joinInts(x []int32) string {
	var b strings.Builder
	for i, v := range x {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, v)
	}
	return b.String()
}

func newDataSequencesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sequences --split train|test [--num-words N] [--out FILE|-]",
		Short: "Write a split as text: one row per line, \"label id id …\", unpadded, in Keras order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			split, err := splitFlag(cmd)
			if err != nil {
				return err
			}
			out, _ := cmd.Flags().GetString("out")
			train, test, err := dataset.LoadData(dataDir(cmd), loadOptions(cmd))
			if err != nil {
				return err
			}
			s := train
			if split == "test" {
				s = test
			}
			if out == "" || out == "-" {
				return dataset.WriteSequences(cmd.OutOrStdout(), s)
			}
			return dataset.WriteSequencesFile(out, s)
		},
	}
	cmd.Flags().String("split", "", "train or test (required)")
	cmd.Flags().String("out", "-", "output file, written atomically; - for stdout")
	addLoadFlags(cmd)
	return cmd
}
