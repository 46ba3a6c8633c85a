package kernel

import (
	"fmt"
	"os"
	"strings"
)

// Impl is one implementation of the float32 kernels (GEMM, gate
// functions, fused recurrent steps). The fastest one the CPU and the build
// allow is chosen once, when the package initialises; BIRNN_KERNEL=purego
// (or go) forces the pure-Go kernels and BIRNN_KERNEL=avx2 asks for the
// AVX2+FMA ones (falling back to pure Go on a CPU without them). The
// `purego` build tag leaves only the pure-Go kernels in the binary.
//
// A wider path (AVX-512) slots in as a further Impl: its detection in
// detectImpl, its kernels behind the same function variables.
type Impl int

// The implementations, slowest first.
const (
	ImplGo   Impl = iota // portable Go (gonum's BLAS for plain products)
	ImplAVX2             // AVX2 + FMA assembly, amd64 only
)

func (i Impl) String() string {
	switch i {
	case ImplGo:
		return "purego"
	case ImplAVX2:
		return "avx2"
	}
	return fmt.Sprintf("Impl(%d)", int(i))
}

// EnvKernel is the environment variable read at start-up to force an Impl.
const EnvKernel = "BIRNN_KERNEL"

var current Impl

func init() {
	current = chooseImpl(os.Getenv(EnvKernel))
	applyImpl(current)
}

// chooseImpl maps a BIRNN_KERNEL value to the Impl to use: the request
// when this build and CPU support it, else the best one that is.
func chooseImpl(env string) Impl {
	best := bestImpl()
	switch strings.ToLower(strings.TrimSpace(env)) {
	case "purego", "go":
		return ImplGo
	case "avx2":
		return min(best, ImplAVX2)
	}
	return best
}

// bestImpl is the fastest Impl this binary can run on this CPU.
func bestImpl() Impl {
	if hasAVX2FMA() {
		return ImplAVX2
	}
	return ImplGo
}

// Current returns the Impl in use.
func Current() Impl { return current }

// Available lists the Impls this binary can run on this CPU, slowest
// first; tests run the kernels under each.
func Available() []Impl {
	out := []Impl{ImplGo}
	if bestImpl() >= ImplAVX2 {
		out = append(out, ImplAVX2)
	}
	return out
}

// SetImpl switches to i and returns the Impl that was in use. It is meant
// for tests and benchmarks that compare the paths: no kernel may be running
// while it is called. An Impl the CPU or build lacks is an error.
func SetImpl(i Impl) (Impl, error) {
	if i < ImplGo || i > bestImpl() {
		return current, fmt.Errorf("kernel: implementation %v is not available (best here: %v)", i, bestImpl())
	}
	prev := current
	current = i
	applyImpl(i)
	return prev, nil
}
