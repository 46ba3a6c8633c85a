package serve

import (
	"os"
	"strings"
	"testing"
)

// TestOpenAPIDocumentsEverything keeps api/openapi.yaml in step with the
// routes and error codes the server has.
func TestOpenAPIDocumentsEverything(t *testing.T) {
	b, err := os.ReadFile("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, route := range []string{"/v1/score:", "/v1/score/ids:", "/v1/model:", "/v1/admin/reload:", "/healthz:", "/readyz:", "/metrics:"} {
		if !strings.Contains(doc, "\n  "+route) {
			t.Errorf("path %s undocumented", route)
		}
	}
	for _, code := range []string{CodeMalformedJSON, CodeUnknownField, CodeUnauthorized, CodeNotFound, CodeBodyTooLarge,
		CodeUnsupportedMediaType, CodeEmptyRequest, CodeTooManyReviews, CodeReviewTooLong, CodeInvalidID, CodeReloadFailed,
		CodeClientClosed, CodeInferenceFailed, CodeQueueFull, CodeModelNotLoaded, CodeDraining, CodeTimeout, "method_not_allowed"} {
		if !strings.Contains(doc, code) {
			t.Errorf("error code %s undocumented", code)
		}
	}
}
