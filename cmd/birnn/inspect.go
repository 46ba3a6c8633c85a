package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/birnn/birnn/infer"
)

func newInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect MODEL.onnx",
		Short: "Describe an ONNX model: producer, opsets, inputs/outputs, operators, parameters",
		Long: long(`
			Describe an ONNX model, whether or not the engine can run it: its producer, IR
			version and opsets, inputs and outputs with their dims (symbolic ones by name), an
			operator histogram (Loop, Scan and If bodies included), the parameter count, external
			data files and metadata, and what the engine cannot run (every unsupported operator
			with its opset, node count, first node and the Loop/Scan/If holding it).`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := infer.Describe(args[0])
			if err != nil {
				return err
			}
			return writeInspect(cmd.OutOrStdout(), info)
		},
	}
}

func writeInspect(w io.Writer, info *infer.ModelInfo) error {
	m := info.Metadata
	var b strings.Builder
	producer := strings.TrimSpace(m.ProducerName + " " + m.ProducerVersion)
	if producer == "" {
		producer = "(unknown)"
	}
	fmt.Fprintf(&b, "producer:   %s\n", producer)
	fmt.Fprintf(&b, "ir version: %d\n", m.IRVersion)
	var opsets []string
	for d, v := range m.Opsets {
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, fmt.Sprintf("%s %d", d, v))
	}
	sort.Strings(opsets)
	fmt.Fprintf(&b, "opsets:     %s\n", strings.Join(opsets, ", "))
	if m.GraphName != "" {
		fmt.Fprintf(&b, "graph:      %s\n", m.GraphName)
	}
	if m.DocString != "" {
		fmt.Fprintf(&b, "doc:        %s\n", m.DocString)
	}
	b.WriteString("inputs:\n")
	for _, v := range info.Inputs {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	b.WriteString("outputs:\n")
	for _, v := range info.Outputs {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	hist := info.Ops
	ops := make([]string, 0, len(hist))
	total := 0
	for op, n := range hist {
		ops = append(ops, op)
		total += n
	}
	sort.Slice(ops, func(i, j int) bool {
		if hist[ops[i]] != hist[ops[j]] {
			return hist[ops[i]] > hist[ops[j]]
		}
		return ops[i] < ops[j]
	})
	if info.Subgraphs > 0 {
		fmt.Fprintf(&b, "operators (%d nodes, %d in %d Loop/Scan/If bodies):\n", total, total-info.MainNodes, info.Subgraphs)
	} else {
		fmt.Fprintf(&b, "operators (%d nodes):\n", total)
	}
	for _, op := range ops {
		fmt.Fprintf(&b, "  %-20s %d\n", op, hist[op])
	}
	fmt.Fprintf(&b, "parameters: %d (elements of floating-point initializers)\n", info.Params)
	if len(info.ExternalData) > 0 {
		fmt.Fprintf(&b, "external data: %s\n", strings.Join(info.ExternalData, ", "))
	}
	if len(m.Props) > 0 {
		b.WriteString("metadata:\n")
		keys := make([]string, 0, len(m.Props))
		for k := range m.Props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			writeProp(&b, k, m.Props[k])
		}
	}
	switch u := info.Unsupported; {
	case u != nil:
		b.WriteString("cannot run:\n")
		for _, o := range u.Ops {
			d := o.Domain
			if d == "" {
				d = "ai.onnx"
			}
			fmt.Fprintf(&b, "  operator %s (%s opset %d): %d node(s), first %q", o.Op, d, o.Opset, o.Nodes, o.Node)
			if o.Within != "" {
				fmt.Fprintf(&b, ", inside %s", o.Within)
			}
			b.WriteString("\n")
		}
		for _, t := range u.Types {
			fmt.Fprintf(&b, "  type %s of %q", t.Type, t.Value)
			if t.Within != "" {
				fmt.Fprintf(&b, ", inside %s", t.Within)
			}
			b.WriteString("\n")
		}
	case info.LoadErr != nil:
		fmt.Fprintf(&b, "cannot run: %v\n", info.LoadErr)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeProp writes one metadata entry under "metadata:"; a value of several
// lines (the embedded config YAML) is a block indented under its key, so
// the listing stays readable and its lines are not taken for top-level
// fields.
func writeProp(b *strings.Builder, k, v string) {
	if !strings.Contains(v, "\n") {
		fmt.Fprintf(b, "  %s: %s\n", k, v)
		return
	}
	fmt.Fprintf(b, "  %s: |\n", k)
	for _, line := range strings.Split(strings.TrimRight(v, "\n"), "\n") {
		fmt.Fprintf(b, "    %s\n", line)
	}
}
