package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/moonlight-oss/moonlight/internal/httpapi"
)

// The document is loaded and validated once per test binary.
var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func loadSpec() (*openapi3.T, routers.Router, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromData(httpapi.OpenAPI)
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(loader.Context); specErr != nil {
			return
		}
		// The router matches by path only; the servers entry names the demo's host.
		specDoc.Servers = nil
		specRouter, specErr = gorillamux.NewRouter(specDoc)
	})
	return specDoc, specRouter, specErr
}

// TestOpenAPIValidates loads openapi.yaml with kin-openapi and validates it
// as an OpenAPI 3 document (stray keys, nullable without a type, bad refs,
// examples that do not match their schema).
func TestOpenAPIValidates(t *testing.T) {
	doc, _, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	if doc.Paths.Len() == 0 {
		t.Fatal("openapi.yaml has no paths")
	}
}

// checkResponse fails the test unless the recorded response of req is one
// the document describes for that operation: a documented status, and a
// body matching its schema. The handler tests call it on every response, so
// the document cannot drift from what the server really answers.
func checkResponse(t *testing.T, req *http.Request, body []byte, w *httptest.ResponseRecorder) {
	t.Helper()
	_, router, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	// Match against a copy whose URL has the path only.
	mreq := req.Clone(context.Background())
	mreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(mreq)
	if err != nil {
		if w.Code == http.StatusNotFound || w.Code == http.StatusMethodNotAllowed {
			return // an undocumented path answered as such
		}
		t.Errorf("%s %s: no operation in openapi.yaml: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: mreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: w.Code,
		Header: w.Header(),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true, // a status the operation does not list is an error
			MultiError:            true,
		},
	}
	in.SetBodyBytes(w.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s answered %d, which openapi.yaml does not describe: %v\nbody: %s",
			req.Method, req.URL.Path, w.Code, err, truncate(w.Body.String(), 600))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
