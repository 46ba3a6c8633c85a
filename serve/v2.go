package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"unicode/utf8"
)

// The Open Inference Protocol v2 (KServe's and Triton's "predict v2"),
// over REST here and over gRPC in grpc.go. Both decode their request into
// tensorIn values, turn them into the rows /v1 scores (v2Rows), run them
// through the same batcher (Server.run) and encode the scores as
// tensorOut values (v2Outputs).
//
// A sentiment model has two inputs, of which a request sends one: "text"
// (BYTES, shape [-1], one review per element, tokenized with the model's
// word index) or the model's own ONNX input (its datatype, shape [-1,
// maxlen], the padded ids). It answers its ONNX score output (FP32) and
// "label" (BYTES, "positive" or "negative").

// TextInput and LabelOutput are the v2 tensor names of raw reviews and
// of their labels.
const (
	TextInput   = "text"
	LabelOutput = "label"
	// Platform is the v2 metadata platform of ONNX models.
	Platform = "onnx_onnxv1"
	// ServerName is what GET /v2 and ServerMetadata call the server.
	ServerName = "birnn"
	// ExtensionRepository is the repository extension's name in the
	// server metadata (Triton's).
	ExtensionRepository = "model_repository"
)

// V2RequestTensor is an input of a v2 REST inference request; Data is
// nested or flat, row-major.
type V2RequestTensor struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// V2RequestOutput names an output a request wants.
type V2RequestOutput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// V2InferRequest is the body of POST /v2/models/{name}[/versions/{v}]/infer.
type V2InferRequest struct {
	ID         string            `json:"id,omitempty"`
	Parameters map[string]any    `json:"parameters,omitempty"`
	Inputs     []V2RequestTensor `json:"inputs"`
	Outputs    []V2RequestOutput `json:"outputs,omitempty"`
}

// V2ResponseTensor is an output of a v2 inference response.
type V2ResponseTensor struct {
	Name     string  `json:"name"`
	Shape    []int64 `json:"shape"`
	Datatype string  `json:"datatype"`
	Data     any     `json:"data"`
}

// V2InferResponse answers an inference request.
type V2InferResponse struct {
	ModelName    string             `json:"model_name"`
	ModelVersion string             `json:"model_version,omitempty"`
	ID           string             `json:"id,omitempty"`
	Outputs      []V2ResponseTensor `json:"outputs"`
}

// V2TensorMetadata describes an input or output; -1 is a variable
// dimension.
type V2TensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// V2ModelMetadata answers GET /v2/models/{name}[/versions/{v}].
type V2ModelMetadata struct {
	Name     string             `json:"name"`
	Versions []string           `json:"versions,omitempty"`
	Platform string             `json:"platform"`
	Inputs   []V2TensorMetadata `json:"inputs"`
	Outputs  []V2TensorMetadata `json:"outputs"`
}

// V2ServerMetadata answers GET /v2.
type V2ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// tensorIn is a decoded input tensor, whatever the transport.
type tensorIn struct {
	name, datatype string
	shape          []int64
	strs           []string  // BYTES
	nums           []float64 // numeric datatypes
}

// tensorOut is an output tensor to encode.
type tensorOut struct {
	name, datatype string
	shape          []int64
	f32            []float32 // FP32
	strs           []string  // BYTES
}

// v2Version is the version a single served model answers as: its ONNX
// model_version, else "1".
func v2Version(info ModelInfo) string {
	if info.Version != "" {
		return info.Version
	}
	return "1"
}

// v2DataType maps ONNX element types to v2 datatypes.
var v2DataType = map[string]string{
	"FLOAT": "FP32", "DOUBLE": "FP64", "FLOAT16": "FP16", "BFLOAT16": "BF16",
	"INT8": "INT8", "INT16": "INT16", "INT32": "INT32", "INT64": "INT64",
	"UINT8": "UINT8", "UINT16": "UINT16", "UINT32": "UINT32", "UINT64": "UINT64",
	"BOOL": "BOOL", "STRING": "BYTES",
}

// v2Shape is t's shape with -1 for every symbolic dimension; a shape the
// model does not state is [-1, -1].
func v2Shape(t TensorInfo) []int64 {
	if t.Shape == nil {
		return []int64{-1, -1}
	}
	out := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		switch v := d.(type) {
		case int64:
			out[i] = v
		case int:
			out[i] = int64(v)
		default:
			out[i] = -1
		}
	}
	return out
}

func findTensor(ts []TensorInfo, name string) (TensorInfo, bool) {
	for _, t := range ts {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// idsInput and scoreOutput are the model's ONNX tensors that take the ids
// and give the score.
func idsInput(info ModelInfo) V2TensorMetadata {
	name := info.Input
	if name == "" && len(info.Inputs) == 1 {
		name = info.Inputs[0].Name
	}
	t, ok := findTensor(info.Inputs, name)
	md := V2TensorMetadata{Name: name, Datatype: "INT32", Shape: []int64{-1, -1}}
	if ok {
		md.Datatype, md.Shape = v2DataType[t.DType], v2Shape(t)
	}
	if len(md.Shape) == 2 && md.Shape[1] < 0 && info.MaxLen > 0 {
		md.Shape[1] = -1 // any length: rows are padded or cut to MaxLen
	}
	return md
}

func scoreOutput(info ModelInfo) V2TensorMetadata {
	name := info.Output
	if name == "" && len(info.Outputs) > 0 {
		name = info.Outputs[0].Name
	}
	md := V2TensorMetadata{Name: name, Datatype: "FP32", Shape: []int64{-1, 1}}
	if t, ok := findTensor(info.Outputs, name); ok && t.Shape != nil {
		md.Shape = v2Shape(t)
		md.Shape[0] = -1
	}
	return md
}

// v2Metadata describes a served model version in v2 terms.
func v2Metadata(res *resolved) V2ModelMetadata {
	info := res.l.info
	return V2ModelMetadata{
		Name:     res.name,
		Versions: res.versions,
		Platform: Platform,
		Inputs:   []V2TensorMetadata{{Name: TextInput, Datatype: "BYTES", Shape: []int64{-1}}, idsInput(info)},
		Outputs:  []V2TensorMetadata{scoreOutput(info), {Name: LabelOutput, Datatype: "BYTES", Shape: []int64{-1}}},
	}
}

func badRequest(format string, args ...any) *APIError {
	return apiErrorf(http.StatusBadRequest, CodeInvalidTensor, format, args...)
}

// elements is the product of shape, or an error for a negative or
// overflowing dimension.
func elements(shape []int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
		if d != 0 && n > math.MaxInt32/d {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}

// v2Rows checks the request's inputs against the model (info) and the
// limits and returns the rows to score: texts for "text", ids for the
// model's own input.
func (s *Server) v2Rows(info ModelInfo, ins []tensorIn) (texts []string, ids [][]int32, e *APIError) {
	in := idsInput(info)
	if len(ins) != 1 {
		return nil, nil, badRequest("%d inputs: send exactly one, %q (BYTES) or %q (%s)", len(ins), TextInput, in.Name, in.Datatype)
	}
	t := ins[0]
	n, err := elements(t.shape)
	if err != nil {
		return nil, nil, badRequest("input %q: %v", t.name, err)
	}
	switch t.name {
	case TextInput:
		if t.datatype != "BYTES" {
			return nil, nil, badRequest("input %q: datatype %s, want BYTES", t.name, t.datatype)
		}
		if len(t.shape) == 0 || len(t.shape) > 2 || len(t.shape) == 2 && t.shape[1] != 1 {
			return nil, nil, badRequest("input %q: shape %v, want [N] or [N, 1]", t.name, t.shape)
		}
		if int64(len(t.strs)) != n {
			return nil, nil, badRequest("input %q: shape %v holds %d elements, data has %d", t.name, t.shape, n, len(t.strs))
		}
		if e := s.checkCount(len(t.strs), `input "text"`); e != nil {
			return nil, nil, e
		}
		for i, r := range t.strs {
			if !utf8.ValidString(r) {
				return nil, nil, badRequest("input %q: element %d is not UTF-8 text", t.name, i)
			}
			if c := utf8.RuneCountInString(r); c > s.cfg.MaxReviewChars {
				return nil, nil, apiErrorAt(http.StatusUnprocessableEntity, CodeReviewTooLong, i,
					"review %d has %d characters, over the limit of %d", i, c, s.cfg.MaxReviewChars)
			}
		}
		return t.strs, nil, nil
	case in.Name:
		if t.datatype != in.Datatype {
			return nil, nil, badRequest("input %q: datatype %s, want %s", t.name, t.datatype, in.Datatype)
		}
		if len(t.shape) != 2 {
			return nil, nil, badRequest("input %q: shape %v, want [N, length]", t.name, t.shape)
		}
		if want := in.Shape[1]; want >= 0 && t.shape[1] != want {
			return nil, nil, badRequest("input %q: shape %v, want [N, %d]", t.name, t.shape, want)
		}
		if int64(len(t.nums)) != n {
			return nil, nil, badRequest("input %q: shape %v holds %d elements, data has %d", t.name, t.shape, n, len(t.nums))
		}
		rows, cols := int(t.shape[0]), int(t.shape[1])
		if e := s.checkCount(rows, fmt.Sprintf("input %q", t.name)); e != nil {
			return nil, nil, e
		}
		if cols > s.cfg.MaxIDs {
			return nil, nil, apiErrorf(http.StatusUnprocessableEntity, CodeReviewTooLong, "rows of %d ids, over the limit of %d", cols, s.cfg.MaxIDs)
		}
		maxID := float64(info.MaxID)
		ids = make([][]int32, rows)
		for i := range rows {
			row := make([]int32, cols)
			for j := range cols {
				v := t.nums[i*cols+j]
				if v != math.Trunc(v) || v < 0 || info.MaxID > 0 && v > maxID || v > math.MaxInt32 {
					return nil, nil, apiErrorAt(http.StatusBadRequest, CodeInvalidID, i, "input %q: row %d: %v is not a token id in [0, %d]", t.name, i, v, info.MaxID)
				}
				row[j] = int32(v)
			}
			ids[i] = row
		}
		return nil, ids, nil
	}
	return nil, nil, badRequest("unknown input %q: the model takes %q (BYTES) or %q (%s)", t.name, TextInput, in.Name, in.Datatype)
}

// v2Outputs encodes the scores as the requested outputs (all when none
// is named): the score output, [N, 1] (or [N, 2] for a softmax model:
// 1−p, p), and the labels.
func (s *Server) v2Outputs(info ModelInfo, scores []float32, requested []string) ([]tensorOut, *APIError) {
	so := scoreOutput(info)
	n := int64(len(scores))
	cols := int64(1)
	if len(so.Shape) == 2 && so.Shape[1] == 2 {
		cols = 2
	}
	build := func(name string) (tensorOut, bool) {
		switch name {
		case so.Name:
			t := tensorOut{name: name, datatype: "FP32", shape: []int64{n, cols}}
			if len(so.Shape) == 1 {
				t.shape = []int64{n}
			}
			if cols == 2 {
				t.f32 = make([]float32, 0, 2*n)
				for _, p := range scores {
					t.f32 = append(t.f32, 1-p, p)
				}
			} else {
				t.f32 = scores
			}
			return t, true
		case LabelOutput:
			return tensorOut{name: name, datatype: "BYTES", shape: []int64{n}, strs: s.labels(scores)}, true
		}
		return tensorOut{}, false
	}
	if len(requested) == 0 {
		requested = []string{so.Name, LabelOutput}
	}
	out := make([]tensorOut, 0, len(requested))
	for _, name := range requested {
		t, ok := build(name)
		if !ok {
			return nil, badRequest("unknown output %q: the model gives %q and %q", name, so.Name, LabelOutput)
		}
		out = append(out, t)
	}
	return out, nil
}

// DecodeV2Request parses a v2 REST inference body: the request and its
// inputs with their data flattened. Errors name the problem: malformed
// JSON, a missing name or datatype, data that is not an array of the
// datatype's JSON type. It does not check the inputs against a model.
func DecodeV2Request(body []byte) (*V2InferRequest, []tensorIn, error) {
	var req V2InferRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("empty body")
		}
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("more than one JSON value in the body")
	}
	if len(req.Inputs) == 0 {
		return nil, nil, errors.New(`"inputs" is missing or empty`)
	}
	ins := make([]tensorIn, len(req.Inputs))
	for i, t := range req.Inputs {
		if t.Name == "" {
			return nil, nil, fmt.Errorf("input %d has no name", i)
		}
		if t.Datatype == "" {
			return nil, nil, fmt.Errorf("input %q has no datatype", t.Name)
		}
		if t.Shape == nil {
			return nil, nil, fmt.Errorf("input %q has no shape", t.Name)
		}
		if _, ok := t.Parameters["binary_data_size"]; ok {
			return nil, nil, fmt.Errorf("input %q: the binary tensor data extension is not supported; send the data as JSON", t.Name)
		}
		ti := tensorIn{name: t.Name, datatype: t.Datatype, shape: t.Shape}
		var err error
		if t.Datatype == "BYTES" {
			ti.strs, err = flattenJSON[string](t.Data)
		} else {
			ti.nums, err = flattenJSON[float64](t.Data)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("input %q: data: %w", t.Name, err)
		}
		ins[i] = ti
	}
	return &req, ins, nil
}

// flattenJSON reads a JSON array, nested to any depth (row-major), of
// strings or numbers, as a flat slice; a bare scalar is one element.
func flattenJSON[T string | float64](raw json.RawMessage) ([]T, error) {
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	out := []T{}
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '[':
				depth++
				if depth > 32 {
					return nil, errors.New("nested deeper than 32 arrays")
				}
			case ']':
				depth--
			default:
				return nil, errors.New("an object where a tensor element was expected")
			}
		case string:
			s, ok := any(v).(T)
			if !ok {
				return nil, fmt.Errorf("string %q where a number was expected", trimTo(v, 40))
			}
			out = append(out, s)
		case json.Number:
			f, err := v.Float64()
			if err != nil {
				return nil, fmt.Errorf("number %s: %v", v, err)
			}
			x, ok := any(f).(T)
			if !ok {
				return nil, fmt.Errorf("number %s where a string was expected", v)
			}
			out = append(out, x)
		default:
			return nil, fmt.Errorf("%v where a tensor element was expected", tok)
		}
	}
	return out, nil
}

func trimTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func serverVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func (s *Server) serverMetadata() V2ServerMetadata {
	md := V2ServerMetadata{Name: ServerName, Version: serverVersion(), Extensions: []string{}}
	if s.repo != nil {
		md.Extensions = append(md.Extensions, ExtensionRepository)
	}
	return md
}

// ready reports whether the server takes inference requests: not
// draining, and its model loaded (a repository: every version found at
// start loaded or failed, and one at least ready).
func (s *Server) ready() bool {
	if s.draining.Load() {
		return false
	}
	if s.repo != nil {
		return s.repoStarted.Load() && s.repo.anyReady()
	}
	return s.models.current() != nil
}

// v2Error answers e in the protocol's shape {"error": "message"}.
func (s *Server) v2Error(w http.ResponseWriter, e *APIError) {
	if rec, ok := w.(*recorder); ok {
		rec.code = e.Code
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	msg := e.Message
	if e.Index != nil && e.Code != CodeInvalidID && e.Code != CodeReviewTooLong {
		msg += " (element " + strconv.Itoa(*e.Index) + ")"
	}
	writeJSON(w, e.Status, map[string]string{"error": msg})
}

func (s *Server) v2Routes(mux *http.ServeMux) {
	h := func(pattern, route string, f http.HandlerFunc) { mux.Handle(pattern, s.instrument(route, f)) }
	h("GET /v2", "/v2", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.serverMetadata()) })
	h("GET /v2/health/live", "/v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	h("GET /v2/health/ready", "/v2/health/ready", func(w http.ResponseWriter, r *http.Request) {
		st := http.StatusOK
		if !s.ready() {
			st = http.StatusServiceUnavailable
		}
		writeJSON(w, st, map[string]bool{"ready": st == http.StatusOK})
	})
	for _, p := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		h("GET "+p, "/v2/models/{name}", s.handleV2Metadata)
		h("GET "+p+"/ready", "/v2/models/{name}/ready", s.handleV2ModelReady)
		h("POST "+p+"/infer", "/v2/models/{name}/infer", s.handleV2Infer)
	}
	h("POST /v2/repository/index", "/v2/repository/index", s.handleRepoIndex)
	h("POST /v2/repository/models/{name}/load", "/v2/repository/models/{name}/load", s.handleRepoLoad)
	h("POST /v2/repository/models/{name}/unload", "/v2/repository/models/{name}/unload", s.handleRepoUnload)
	h("/v2/", "/v2/other", func(w http.ResponseWriter, r *http.Request) {
		s.v2Error(w, apiErrorf(http.StatusNotFound, CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
}

func (s *Server) handleV2Metadata(w http.ResponseWriter, r *http.Request) {
	res, e := s.resolve(r.PathValue("name"), r.PathValue("version"))
	if e != nil {
		s.v2Error(w, e)
		return
	}
	writeJSON(w, http.StatusOK, v2Metadata(res))
}

func (s *Server) handleV2ModelReady(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	_, e := s.resolve(name, r.PathValue("version"))
	if e != nil && e.Status == http.StatusNotFound {
		s.v2Error(w, e)
		return
	}
	st := http.StatusOK
	if e != nil || s.draining.Load() {
		st = http.StatusServiceUnavailable
	}
	writeJSON(w, st, map[string]any{"name": name, "ready": st == http.StatusOK})
}

// readV2Body reads a v2 body within the size limit; the content type, if
// given, must be JSON (tritonclient sends none).
func (s *Server) readV2Body(w http.ResponseWriter, r *http.Request) ([]byte, *APIError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, apiErrorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Content-Type %q: want application/json (the binary tensor data extension is not supported)", ct)
		}
	}
	if r.Header.Get("Inference-Header-Content-Length") != "" {
		return nil, badRequest("the binary tensor data extension is not supported; send the data as JSON")
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return nil, apiErrorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body of %d bytes exceeds the limit of %d", r.ContentLength, s.cfg.MaxBodyBytes)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return nil, decodeError(err, s.cfg.MaxBodyBytes)
	}
	return b, nil
}

func (s *Server) handleV2Infer(w http.ResponseWriter, r *http.Request) {
	arrived := s.batch.arrive()
	defer arrived()
	res, e := s.resolve(r.PathValue("name"), r.PathValue("version"))
	if e != nil {
		s.v2Error(w, e)
		return
	}
	body, e := s.readV2Body(w, r)
	if e != nil {
		s.v2Error(w, e)
		return
	}
	req, ins, err := DecodeV2Request(body)
	if err != nil {
		s.v2Error(w, apiErrorf(http.StatusBadRequest, CodeMalformedJSON, "%s", err))
		return
	}
	texts, ids, e := s.v2Rows(res.l.info, ins)
	if e != nil {
		s.v2Error(w, e)
		return
	}
	requested := make([]string, len(req.Outputs))
	for i, o := range req.Outputs {
		requested[i] = o.Name
	}
	if _, e := s.v2Outputs(res.l.info, nil, requested); e != nil {
		s.v2Error(w, e)
		return
	}
	if rec, ok := w.(*recorder); ok {
		rec.rows = len(texts) + len(ids)
	}
	j, e := s.run(r.Context(), res.h, texts, ids, arrived)
	if e != nil {
		s.v2Error(w, e)
		return
	}
	outs, _ := s.v2Outputs(res.l.info, j.scores, requested)
	resp := V2InferResponse{ModelName: res.name, ModelVersion: res.version, ID: req.ID, Outputs: make([]V2ResponseTensor, len(outs))}
	for i, o := range outs {
		rt := V2ResponseTensor{Name: o.name, Shape: o.shape, Datatype: o.datatype, Data: o.f32}
		if o.strs != nil {
			rt.Data = o.strs
		}
		resp.Outputs[i] = rt
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) noRepository(w http.ResponseWriter) bool {
	if s.repo == nil {
		s.v2Error(w, apiErrorf(http.StatusBadRequest, CodeNotFound, "this server serves one model, not a repository (birnn serve --model-repository DIR)"))
		return true
	}
	return false
}

// repoBody reads an optional JSON object body of the repository routes.
func (s *Server) repoBody(w http.ResponseWriter, r *http.Request, dst any) *APIError {
	b, e := s.readV2Body(w, r)
	if e != nil {
		return e
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return apiErrorf(http.StatusBadRequest, CodeMalformedJSON, "%s", err)
	}
	return nil
}

func (s *Server) handleRepoIndex(w http.ResponseWriter, r *http.Request) {
	if s.noRepository(w) {
		return
	}
	var req struct {
		Ready bool `json:"ready"`
	}
	if e := s.repoBody(w, r, &req); e != nil {
		s.v2Error(w, e)
		return
	}
	idx, err := s.repositoryIndex(req.Ready)
	if err != nil {
		s.v2Error(w, apiErrorf(http.StatusInternalServerError, CodeInferenceFailed, "%s", err))
		return
	}
	writeJSON(w, http.StatusOK, idx)
}

func (s *Server) handleRepoLoad(w http.ResponseWriter, r *http.Request) {
	if s.noRepository(w) {
		return
	}
	var req struct {
		Parameters map[string]any `json:"parameters"`
	}
	if e := s.repoBody(w, r, &req); e != nil {
		s.v2Error(w, e)
		return
	}
	name := r.PathValue("name")
	if err := s.syncRepository(r.Context(), syncOpts{only: name, explicit: true, force: true}); err != nil {
		s.v2Error(w, apiErrorf(http.StatusBadRequest, CodeReloadFailed, "%s", err))
		return
	}
	if _, e := s.resolve(name, ""); e != nil {
		s.v2Error(w, apiErrorf(http.StatusBadRequest, CodeReloadFailed, "load %q: %s", name, e.Message))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleRepoUnload(w http.ResponseWriter, r *http.Request) {
	if s.noRepository(w) {
		return
	}
	var req struct {
		Parameters map[string]any `json:"parameters"`
	}
	if e := s.repoBody(w, r, &req); e != nil {
		s.v2Error(w, e)
		return
	}
	if err := s.unloadRepositoryModel(r.PathValue("name")); err != nil {
		s.v2Error(w, apiErrorf(http.StatusBadRequest, CodeNotFound, "%s", err))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
