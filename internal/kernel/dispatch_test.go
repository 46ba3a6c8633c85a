package kernel

import "testing"

// TestChooseImpl checks how BIRNN_KERNEL values map to implementations.
func TestChooseImpl(t *testing.T) {
	best := bestImpl()
	for env, want := range map[string]Impl{
		"": best, "auto": best, "purego": ImplGo, "GO": ImplGo, " purego ": ImplGo,
		"avx2": min(best, ImplAVX2), "AVX512": min(best, ImplAVX512), "unknown": best,
	} {
		if got := chooseImpl(env); got != want {
			t.Errorf("chooseImpl(%q) = %v, want %v", env, got, want)
		}
	}
	if _, err := SetImpl(best + 1); err == nil {
		t.Error("SetImpl accepted an implementation this CPU lacks")
	}
	prev, err := SetImpl(ImplGo)
	if err != nil {
		t.Fatal(err)
	}
	if Current() != ImplGo || Float32Impl() != "gonum (pure Go)" {
		t.Errorf("after SetImpl(ImplGo): Current %v, Float32Impl %q", Current(), Float32Impl())
	}
	SetImpl(prev)
	if av := Available(); av[0] != ImplGo || av[len(av)-1] != best {
		t.Errorf("Available() = %v, want ImplGo … %v", av, best)
	}
}

// TestRequestedKernel fails when BIRNN_KERNEL names an implementation this
// CPU or build cannot run: CI runs the engine's tests once per path, and a
// run that asked for AVX-512 on a machine without it must fail, not pass
// on the AVX2 kernels.
func TestRequestedKernel(t *testing.T) {
	want, ok := Requested()
	if !ok {
		t.Logf("%s unset: running %v, the best here", EnvKernel, Current())
		return
	}
	if Current() != want {
		t.Fatalf("%s asked for %v, but this CPU or build runs %v at best (AVX-512 needs avx512f/dq/bw/vl; the purego tag leaves out all assembly, noavx512 the AVX-512 path)",
			EnvKernel, want, bestImpl())
	}
}
