package kernel

import "testing"

// TestChooseImpl checks how BIRNN_KERNEL values map to implementations.
func TestChooseImpl(t *testing.T) {
	best := bestImpl()
	for env, want := range map[string]Impl{
		"": best, "auto": best, "purego": ImplGo, "GO": ImplGo, " purego ": ImplGo,
		"avx2": min(best, ImplAVX2), "unknown": best,
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
