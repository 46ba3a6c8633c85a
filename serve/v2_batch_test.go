package serve

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	pb "github.com/birnn/birnn/serve/inferencepb"
)

// TestProtocolsShareBatches: /v1, /v2 REST and gRPC requests queued
// while the model is busy run as one batch, and each gets its own rows.
func TestProtocolsShareBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeModel{name: "m", sha: "aa"}
		s := newTestServer(t, staticLoader(f), func(c *Config) { c.Workers = 1 })
		f.reset()
		f.gate = make(chan struct{})
		h := s.Handler()
		var wg sync.WaitGroup
		var v1, v2 string
		var g *pb.ModelInferResponse
		var gerr error
		wg.Add(1)
		go func() { // first: occupies the only worker
			defer wg.Done()
			_ = post(t, h, "/v1/score", "application/json", `{"reviews":["abcd"]}`, nil)
		}()
		synctest.Wait()
		wg.Add(3)
		go func() {
			defer wg.Done()
			v1 = post(t, h, "/v1/score", "application/json", `{"reviews":["ab","abc"]}`, nil).Body.String()
		}()
		go func() {
			defer wg.Done()
			v2 = post(t, h, "/v2/models/m/infer", "", `{"id":"x","inputs":[{"name":"input_ids","datatype":"INT32","shape":[1,3],"data":[[7,8,9]]}]}`, nil).Body.String()
		}()
		go func() {
			defer wg.Done()
			g, gerr = (&grpcService{s: s}).ModelInfer(context.Background(), &pb.ModelInferRequest{ModelName: "m",
				Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "text", Datatype: "BYTES", Shape: []int64{1},
					Contents: &pb.InferTensorContents{BytesContents: [][]byte{[]byte("abcdefghij")}}}}})
		}()
		synctest.Wait()
		if n := s.queued(); n != 4 {
			t.Fatalf("%d rows queued behind the held batch, want 4", n)
		}
		close(f.gate) // the second batch: texts (v1's two, gRPC's one), then ids (v2's row)
		wg.Wait()
		batches, texts := f.seen()
		if !slices.Equal(batches, []int{1, 3, 1}) {
			t.Errorf("model calls of %v rows, want [1 3 1] (texts %q)", batches, texts)
		}
		if !strings.Contains(v1, `"scores":[0.002,0.003]`) {
			t.Errorf("/v1: %s", v1)
		}
		var r V2InferResponse
		if err := json.Unmarshal([]byte(v2), &r); err != nil || r.ID != "x" || len(r.Outputs) != 2 || r.Outputs[0].Name != "score" {
			t.Fatalf("/v2: %s", v2)
		}
		if d, _ := json.Marshal(r.Outputs[0].Data); string(d) != "[0.024]" { // (7+8+9)/1000
			t.Errorf("/v2 score %s", d)
		}
		if gerr != nil || g.Outputs[0].Contents.Fp32Contents[0] != 0.01 {
			t.Errorf("gRPC: %v %v", g, gerr)
		}
	})
}
