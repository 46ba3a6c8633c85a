package serve

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeV2Request: the v2 JSON request decoder never panics; what it
// accepts has a name, datatype and shape per input and the data of its
// datatype's JSON kind; and the infer route answers every body with a
// result or the protocol's {"error": "..."} and a 4xx status.
func FuzzDecodeV2Request(f *testing.F) {
	f.Add(`{"id":"1","inputs":[{"name":"text","datatype":"BYTES","shape":[2],"data":["good","bad"]}]}`)
	f.Add(`{"inputs":[{"name":"input_ids","datatype":"INT32","shape":[1,3],"data":[[1,2,3]]}],"outputs":[{"name":"label"}]}`)
	f.Add(`{"inputs":[{"name":"input_ids","datatype":"INT32","shape":[1,3],"data":[1,2.5,-3e40]}]}`)
	f.Add(`{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":[[["x"]]],"parameters":{"binary_data_size":3}}]}`)
	f.Add(`{"inputs":[{"name":"text","datatype":"BYTES","shape":[-1],"data":[]}]} []`)
	s, err := New(func() Config { c := DefaultConfig(); c.MaxWait = 0; return c }(), staticLoader(&fakeModel{name: "m", sha: "aa"}), quietLogger())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Drain)
	if err := s.Start(f.Context()); err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req, ins, err := DecodeV2Request([]byte(body))
		if err == nil {
			if len(ins) != len(req.Inputs) || len(ins) == 0 {
				t.Fatalf("%d inputs decoded of %d", len(ins), len(req.Inputs))
			}
			for _, in := range ins {
				if in.name == "" || in.datatype == "" || in.shape == nil {
					t.Fatalf("input %+v accepted", in)
				}
				if (in.datatype == "BYTES") != (in.nums == nil) {
					t.Fatalf("input %s of %s: strings %d, numbers %d", in.name, in.datatype, len(in.strs), len(in.nums))
				}
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v2/models/m/infer", strings.NewReader(body)))
		var out map[string]any
		if jerr := json.Unmarshal(rec.Body.Bytes(), &out); jerr != nil {
			t.Fatalf("%d, not JSON: %q", rec.Code, rec.Body)
		}
		if rec.Code == 200 {
			if err != nil || out["outputs"] == nil {
				t.Fatalf("200 for a body the decoder refuses (%v): %s", err, rec.Body)
			}
			return
		}
		if _, ok := out["error"].(string); !ok || len(out) != 1 || rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
}
