package infer

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/birnn/birnn/onnx"
)

// opKernel is one operator instance, built once at load time from its node.
//
// Run receives one tensor per node input in order (nil for an omitted
// optional input) and returns one tensor per node output (nil allowed for an
// output whose name is empty). Kernels keep no per-run state (Session.Run is
// concurrent) and never modify their inputs (initializers are shared).
type opKernel interface {
	Run(ctx context.Context, in []*Tensor) ([]*Tensor, error)
}

// opBuilder validates a node's attributes and builds its kernel; opset is
// the model's opset version for the node's domain.
type opBuilder func(n *onnx.NodeProto, opset int64) (opKernel, error)

type opEntry struct {
	since, until int64
	build        opBuilder
}

var registry = struct {
	sync.RWMutex
	ops map[string][]opEntry // key domain + "/" + op
}{ops: map[string][]opEntry{}}

func normDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

func opKey(domain, op string) string { return normDomain(domain) + "/" + op }

// registerOp makes op of domain ("" or "ai.onnx" for the default domain)
// available for opsets in [since, until] (until 0: no upper bound). It is
// called from init functions; overlapping ranges are a bug and panic.
func registerOp(domain, op string, since, until int64, b opBuilder) {
	registry.Lock()
	defer registry.Unlock()
	k := opKey(domain, op)
	for _, e := range registry.ops[k] {
		if (until == 0 || e.since <= until) && (e.until == 0 || since <= e.until) {
			panic(fmt.Sprintf("infer: %s registered twice for overlapping opsets", k))
		}
	}
	registry.ops[k] = append(registry.ops[k], opEntry{since, until, b})
}

// lookupOp finds the builder of op for a model importing domain at opset.
func lookupOp(domain, op string, opset int64) (opBuilder, bool) {
	registry.RLock()
	defer registry.RUnlock()
	for _, e := range registry.ops[opKey(domain, op)] {
		if opset >= e.since && (e.until == 0 || opset <= e.until) {
			return e.build, true
		}
	}
	return nil, false
}

// RegisteredOps lists the operators the engine supports, as
// "Op" (default domain) or "domain/Op", sorted.
func RegisteredOps() []string {
	registry.RLock()
	defer registry.RUnlock()
	var out []string
	for k := range registry.ops {
		if k[0] == '/' {
			out = append(out, k[1:])
		} else {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
