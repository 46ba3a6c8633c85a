package serve_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/birnn/birnn/serve"
)

func do(t *testing.T, h http.Handler, method, path, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestV2MetadataAndHealth(t *testing.T) {
	s, _, _ := tinyServer(t, 3, nil)
	h := s.Handler()
	for _, path := range []string{"/v2/models/tiny", "/v2/models/tiny/versions/1"} {
		rec := do(t, h, "GET", path, "", "")
		var md serve.V2ModelMetadata
		if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		want := serve.V2ModelMetadata{
			Name: "tiny", Versions: []string{"1"}, Platform: "onnx_onnxv1",
			Inputs: []serve.V2TensorMetadata{
				{Name: "text", Datatype: "BYTES", Shape: []int64{-1}},
				{Name: "embedding_input", Datatype: "FP32", Shape: []int64{-1, 8}},
			},
			Outputs: []serve.V2TensorMetadata{
				{Name: "dense", Datatype: "FP32", Shape: []int64{-1, 1}},
				{Name: "label", Datatype: "BYTES", Shape: []int64{-1}},
			},
		}
		gotJSON, _ := json.Marshal(md)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s:\n got %s\nwant %s", path, gotJSON, wantJSON)
		}
	}
	for path, want := range map[string]int{
		"/v2/health/live": 200, "/v2/health/ready": 200, "/v2/models/tiny/ready": 200,
		"/v2/models/tiny/versions/1/ready": 200, "/v2/models/tiny/versions/2/ready": 404,
		"/v2/models/other/ready": 404, "/v2": 200,
	} {
		if rec := do(t, h, "GET", path, "", ""); rec.Code != want {
			t.Errorf("GET %s: %d %s, want %d", path, rec.Code, rec.Body, want)
		}
	}
	var md serve.V2ServerMetadata
	rec := do(t, h, "GET", "/v2", "", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil || md.Name != "birnn" || md.Version == "" || md.Extensions == nil {
		t.Errorf("GET /v2: %s (%v)", rec.Body, err)
	}
	s.Drain()
	if rec := do(t, h, "GET", "/v2/health/ready", "", ""); rec.Code != 503 {
		t.Errorf("ready while draining: %d", rec.Code)
	}
	if rec := do(t, h, "GET", "/v2/health/live", "", ""); rec.Code != 200 {
		t.Errorf("live while draining: %d", rec.Code)
	}
}

// TestV2InferMatchesReference sends ids (nested and flat data) and texts
// and compares the scores with servetest's float64 forward pass.
func TestV2InferMatchesReference(t *testing.T) {
	s, p, _ := tinyServer(t, 5, func(c *serve.Config) { c.MaxBatch = 4 })
	rng := rand.New(rand.NewPCG(4, 5))
	rows := make([][]float32, 9)
	var flat []float32
	for i := range rows {
		rows[i] = make([]float32, p.MaxLen)
		for j := range rows[i] {
			if j < 2+rng.IntN(p.MaxLen-2) {
				rows[i][j] = float32(1 + rng.IntN(p.Vocab-1))
			}
		}
		flat = append(flat, rows[i]...)
	}
	texts := []string{"wb wc wd we wf", "wz wba wq", "", "wc wc wc wc wc wc wc wc wc wc"}
	check := func(name string, data any, shape []int64, refs []float64) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"id": "req-" + name, "inputs": []map[string]any{{
			"name": name, "datatype": map[bool]string{true: "BYTES", false: "FP32"}[name == "text"], "shape": shape, "data": data}}})
		rec := do(t, s.Handler(), "POST", "/v2/models/tiny/infer", "application/json", string(body))
		var got struct {
			ModelName    string `json:"model_name"`
			ModelVersion string `json:"model_version"`
			ID           string `json:"id"`
			Outputs      []struct {
				Name     string          `json:"name"`
				Shape    []int64         `json:"shape"`
				Datatype string          `json:"datatype"`
				Data     json.RawMessage `json:"data"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
		}
		if got.ModelName != "tiny" || got.ModelVersion != "1" || got.ID != "req-"+name || len(got.Outputs) != 2 {
			t.Fatalf("%s: answer %s", name, rec.Body)
		}
		n := int64(len(refs))
		if o := got.Outputs[0]; o.Name != "dense" || o.Datatype != "FP32" || !slices.Equal(o.Shape, []int64{n, 1}) {
			t.Errorf("%s: first output %s %s %v", name, o.Name, o.Datatype, o.Shape)
		}
		if o := got.Outputs[1]; o.Name != "label" || o.Datatype != "BYTES" || !slices.Equal(o.Shape, []int64{n}) {
			t.Errorf("%s: second output %s %s %v", name, o.Name, o.Datatype, o.Shape)
		}
		var scores []float64
		var labels []string
		if err := json.Unmarshal(got.Outputs[0].Data, &scores); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got.Outputs[1].Data, &labels); err != nil {
			t.Fatal(err)
		}
		for i, ref := range refs {
			if math.Abs(scores[i]-ref) > 1e-5 {
				t.Errorf("%s row %d: score %v, reference %v", name, i, scores[i], ref)
			}
			want := "negative"
			if ref > 0.5 {
				want = "positive"
			}
			if labels[i] != want {
				t.Errorf("%s row %d: label %q for %v", name, i, labels[i], ref)
			}
		}
	}
	refs := make([]float64, len(rows))
	for i, r := range rows {
		ids := make([]int32, len(r))
		for j, v := range r {
			ids[j] = int32(v)
		}
		var err error
		if refs[i], err = p.Reference(ids); err != nil {
			t.Fatal(err)
		}
	}
	check("embedding_input", rows, []int64{int64(len(rows)), int64(p.MaxLen)}, refs)
	check("embedding_input", flat, []int64{int64(len(rows)), int64(p.MaxLen)}, refs)
	trefs := make([]float64, len(texts))
	for i, tx := range texts {
		trefs[i], _ = p.Reference(p.EncodeText(tx))
	}
	check("text", texts, []int64{int64(len(texts))}, trefs)
	check("text", [][]string{{texts[0]}, {texts[1]}, {texts[2]}, {texts[3]}}, []int64{int64(len(texts)), 1}, trefs)
}

// TestV2Errors: every bad request answers {"error": "..."} alone, with
// the protocol's status, and the server keeps serving.
func TestV2Errors(t *testing.T) {
	s, _, _ := tinyServer(t, 3, func(c *serve.Config) { c.MaxBodyBytes = 4096; c.MaxReviews = 4 })
	h := s.Handler()
	ids := func(dt string, shape string, data string) string {
		return `{"inputs":[{"name":"embedding_input","datatype":"` + dt + `","shape":` + shape + `,"data":` + data + `}]}`
	}
	row := "[1,2,3,4,5,6,7,8]"
	cases := []struct {
		name, path, ct, body string
		status               int
		msg                  string
	}{
		{"unknown model", "/v2/models/nope/infer", "", ids("FP32", "[1,8]", row), 404, `unknown model "nope"`},
		{"unknown version", "/v2/models/tiny/versions/7/infer", "", ids("FP32", "[1,8]", row), 404, `unknown version "7"`},
		{"wrong datatype", "/v2/models/tiny/infer", "", ids("INT32", "[1,8]", row), 400, "datatype INT32, want FP32"},
		{"text as numbers", "/v2/models/tiny/infer", "", `{"inputs":[{"name":"text","datatype":"FP32","shape":[1],"data":[1]}]}`, 400, "want BYTES"},
		{"shape/data mismatch", "/v2/models/tiny/infer", "", ids("FP32", "[2,8]", row), 400, "holds 16 elements, data has 8"},
		{"wrong length", "/v2/models/tiny/infer", "", ids("FP32", "[1,7]", "[1,2,3,4,5,6,7]"), 400, "want [N, 8]"},
		{"negative dim", "/v2/models/tiny/infer", "", ids("FP32", "[-1,8]", row), 400, "negative dimension"},
		{"not an id", "/v2/models/tiny/infer", "", ids("FP32", "[1,8]", "[1,2,3,4,5,6,7,8.5]"), 400, "not a token id"},
		{"string in numbers", "/v2/models/tiny/infer", "", ids("FP32", "[1,8]", `[1,2,3,4,5,6,7,"x"]`), 400, `string "x" where a number`},
		{"object in data", "/v2/models/tiny/infer", "", ids("FP32", "[1,8]", `[{"a":1}]`), 400, "an object"},
		{"unknown input", "/v2/models/tiny/infer", "", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}`, 400, `unknown input "x"`},
		{"two inputs", "/v2/models/tiny/infer", "", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]},{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}]}`, 400, "2 inputs"},
		{"no inputs", "/v2/models/tiny/infer", "", `{"inputs":[]}`, 400, `"inputs" is missing`},
		{"unknown output", "/v2/models/tiny/infer", "", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[{"name":"logits"}]}`, 400, `unknown output "logits"`},
		{"malformed JSON", "/v2/models/tiny/infer", "", `{"inputs":[`, 400, "unexpected EOF"},
		{"trailing JSON", "/v2/models/tiny/infer", "", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["a"]}]} {}`, 400, "more than one JSON value"},
		{"empty body", "/v2/models/tiny/infer", "", ``, 400, "empty body"},
		{"oversized", "/v2/models/tiny/infer", "", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["` + strings.Repeat("a", 5000) + `"]}]}`, 413, "exceeds the limit of 4096"},
		{"too many rows", "/v2/models/tiny/infer", "", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[5],"data":["a","b","c","d","e"]}]}`, 422, "5 reviews exceed the limit of 4"},
		{"binary extension", "/v2/models/tiny/infer", "application/octet-stream", `xx`, 415, "binary tensor data extension"},
		{"no repository", "/v2/repository/index", "", `{}`, 400, "not a repository"},
		{"unknown route", "/v2/models/tiny/explain", "", `{}`, 404, "no route"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := do(t, h, "POST", c.path, c.ct, c.body)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%d %q: %v", rec.Code, rec.Body, err)
			}
			msg, ok := body["error"].(string)
			if rec.Code != c.status || !ok || len(body) != 1 || !strings.Contains(msg, c.msg) {
				t.Errorf("%d %s; want %d and an error containing %q", rec.Code, rec.Body, c.status, c.msg)
			}
		})
	}
	for _, path := range []string{"/v2/models/nope", "/v2/models/tiny/versions/2"} {
		if rec := do(t, h, "GET", path, "", ""); rec.Code != 404 || !strings.HasPrefix(rec.Body.String(), `{"error":`) {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if rec := do(t, h, "POST", "/v2/models/tiny/infer", "", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["wb"]}]}`); rec.Code != 200 {
		t.Errorf("after the errors: %d %s", rec.Code, rec.Body)
	}
}
