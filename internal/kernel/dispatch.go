package kernel

import (
	"fmt"
	"os"
	"strings"
)

// Impl is one implementation of the float32 kernels (GEMM, gate
// functions, fused recurrent steps). The fastest one the CPU and the build
// allow is chosen once, when the package initialises: AVX-512, else AVX2,
// else pure Go. BIRNN_KERNEL=purego (or go), avx2 or avx512 asks for one;
// a request the CPU or build cannot honour falls back to the best one
// that is (Requested tells what was asked, so a test can refuse to pass on
// the wrong path). The `purego` build tag leaves only the pure-Go kernels
// in the binary, the `noavx512` tag keeps the AVX-512 ones unused.
type Impl int

// The implementations, slowest first.
const (
	ImplGo     Impl = iota // portable Go (gonum's BLAS for plain products)
	ImplAVX2               // AVX2 + FMA assembly, amd64 only
	ImplAVX512             // AVX-512 F/DQ/BW/VL forms of the recurrent kernels (and VNNI int8 products where the CPU has it) on top of ImplAVX2
)

func (i Impl) String() string {
	switch i {
	case ImplGo:
		return "purego"
	case ImplAVX2:
		return "avx2"
	case ImplAVX512:
		if hasVNNI() {
			return "avx512+vnni"
		}
		return "avx512"
	}
	return fmt.Sprintf("Impl(%d)", int(i))
}

// EnvKernel is the environment variable read at start-up to force an Impl.
const EnvKernel = "BIRNN_KERNEL"

var current, requested Impl

// requestedSet is whether BIRNN_KERNEL named an Impl.
var requestedSet bool

func init() {
	requested, requestedSet = parseImpl(os.Getenv(EnvKernel))
	current = chooseImpl(os.Getenv(EnvKernel))
	applyImpl(current)
}

// parseImpl maps a BIRNN_KERNEL value to the Impl it names.
func parseImpl(env string) (Impl, bool) {
	switch strings.ToLower(strings.TrimSpace(env)) {
	case "purego", "go":
		return ImplGo, true
	case "avx2":
		return ImplAVX2, true
	case "avx512":
		return ImplAVX512, true
	}
	return 0, false
}

// chooseImpl maps a BIRNN_KERNEL value to the Impl to use: the request
// when this build and CPU support it, else the best one that is.
func chooseImpl(env string) Impl {
	best := bestImpl()
	if i, ok := parseImpl(env); ok {
		return min(best, i)
	}
	return best
}

// Requested returns the Impl BIRNN_KERNEL asked for at start-up and
// whether it named one; Current differs from it when this CPU or build
// lacks the request.
func Requested() (Impl, bool) { return requested, requestedSet }

// bestImpl is the fastest Impl this binary can run on this CPU.
func bestImpl() Impl {
	switch {
	case hasAVX512():
		return ImplAVX512
	case hasAVX2FMA():
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
	for i := ImplAVX2; i <= bestImpl(); i++ {
		out = append(out, i)
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
