package serve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// loadSpec loads api/openapi.yaml and validates it as an OpenAPI 3
// document with kin-openapi: structure, references, schemas, examples.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../api/openapi.yaml")
	if err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// TestOpenAPIDocumentsEverything keeps api/openapi.yaml in step with the
// routes and error codes the server has.
func TestOpenAPIDocumentsEverything(t *testing.T) {
	doc := loadSpec(t)
	for route, method := range map[string]string{"/v1/score": "POST", "/v1/score/ids": "POST", "/v1/model": "GET",
		"/v1/admin/reload": "POST", "/healthz": "GET", "/readyz": "GET", "/metrics": "GET"} {
		item := doc.Paths.Find(route)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s %s undocumented", method, route)
		}
	}
	code := doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value
	for _, c := range []string{CodeMalformedJSON, CodeUnknownField, CodeUnauthorized, CodeNotFound, CodeBodyTooLarge,
		CodeUnsupportedMediaType, CodeEmptyRequest, CodeTooManyReviews, CodeReviewTooLong, CodeInvalidID, CodeReloadFailed,
		CodeClientClosed, CodeInferenceFailed, CodeQueueFull, CodeModelNotLoaded, CodeDraining, CodeTimeout, "method_not_allowed"} {
		if !slices.Contains(code.Enum, any(c)) {
			t.Errorf("error code %s missing from the Error schema's enum %v", c, code.Enum)
		}
	}
}

// TestOpenAPIAnswers sends real requests to the handler and validates each
// request and answer against api/openapi.yaml: status documented for the
// operation, headers, content type and body schema.
func TestOpenAPIAnswers(t *testing.T) {
	doc := loadSpec(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeModel{name: "m", sha: "aa"}
	s := newTestServer(t, staticLoader(f), func(c *Config) { c.AdminToken = "tok"; c.MaxReviews = 3; c.MaxReviewChars = 10 })
	h := s.Handler()
	cases := []struct {
		name, method, path, ct, auth, body string
		status                             int
	}{
		{"score", "POST", "/v1/score", "application/json", "", `{"reviews": ["good film", "bad"]}`, 200},
		{"score ids", "POST", "/v1/score/ids", "application/json", "", `{"ids": [[1, 14, 22], []]}`, 200},
		{"model", "GET", "/v1/model", "", "", "", 200},
		{"healthz", "GET", "/healthz", "", "", "", 200},
		{"readyz", "GET", "/readyz", "", "", "", 200},
		{"metrics", "GET", "/metrics", "", "", "", 200},
		{"reload", "POST", "/v1/admin/reload", "", "Bearer tok", "", 200},
		{"reload unauthorized", "POST", "/v1/admin/reload", "", "Bearer nope", "", 401},
		{"malformed", "POST", "/v1/score", "application/json", "", `{"reviews": [`, 400},
		{"unknown field", "POST", "/v1/score", "application/json", "", `{"reviews": ["a"], "x": 1}`, 400},
		{"wrong content type", "POST", "/v1/score", "text/plain", "", `{"reviews": ["a"]}`, 415},
		{"too many", "POST", "/v1/score", "application/json", "", `{"reviews": ["a", "b", "c", "d"]}`, 422},
		{"too long", "POST", "/v1/score", "application/json", "", `{"reviews": ["a", "far too long a review"]}`, 422},
		{"negative id", "POST", "/v1/score/ids", "application/json", "", `{"ids": [[1, -2]]}`, 422},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://127.0.0.1:8080"+tc.path, strings.NewReader(tc.body))
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if err := validate(t, router, tc.method, tc.path, tc.ct, tc.auth, tc.body, rec); err != nil {
				t.Errorf("answer does not match api/openapi.yaml: %v\n%s", err, rec.Body)
			}
		})
	}

	// The validator is live: an answer breaking the schema is caught.
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	rec.WriteHeader(200)
	rec.WriteString(`{"scores": [1.5], "labels": ["maybe"], "model": "m@aa"}`)
	if err := validate(t, router, "POST", "/v1/score/ids", "application/json", "", `{"ids": [[1]]}`, rec); err == nil {
		t.Error("a score of 1.5 labelled \"maybe\" passed the schema")
	}
}

// validate checks a request (when answered 2xx) and its recorded answer
// against the document.
func validate(t *testing.T, router routers.Router, method, path, ct, auth, body string, rec *httptest.ResponseRecorder) error {
	t.Helper()
	req, err := http.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: no route in the document: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	ctx := context.Background()
	if rec.Code/100 == 2 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return errors.Join(errors.New("request"), err)
		}
	}
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
}
