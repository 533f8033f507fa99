package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/moonlight-oss/moonlight/internal/httpapi"
)

// TestRequestMetrics: every request is counted in the duration histogram
// under its route template (never the raw path with ids) and status; paths
// no route matches share one label.
func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := httpapi.New(httpapi.Config{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Gatherer: reg, Registerer: reg, Routes: allRoutes(),
	})
	for _, give := range []struct{ method, path string }{
		{"GET", "/healthz"},
		{"GET", "/healthz"},
		{"GET", "/api/v1/cases/case-1"}, // no token: 401
		{"GET", "/api/v1/cases/case-2"},
		{"GET", "/no/such/path/42"},
		{"GET", "/another/unknown"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(give.method, give.path, nil))
	}
	got := histogramCounts(t, reg, "moonlight_http_request_duration_seconds")
	want := map[string]uint64{
		"GET /healthz 200":          2,
		"GET /api/v1/cases/:id 401": 2,
		"GET unmatched 404":         2,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("count{%s} = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series = %v, want exactly %v", got, want)
	}
}

// TestAdminHandler: with MetricsElsewhere the main handler has no /metrics,
// and the admin handler serves it with health and readiness.
func TestAdminHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	main := httpapi.New(httpapi.Config{Log: log, Gatherer: reg, Registerer: reg, MetricsElsewhere: true, Routes: allRoutes()})
	admin := httpapi.AdminHandler(httpapi.Config{Log: log, Gatherer: reg})

	main.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	w := httptest.NewRecorder()
	main.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("main /metrics = %d, want 404 (it moved to the admin listener)", w.Code)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("admin %s = %d, want 200", path, w.Code)
		}
		if path == "/metrics" && !strings.Contains(w.Body.String(), `moonlight_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1`) {
			t.Errorf("admin /metrics lacks the main listener's request metric:\n%s", w.Body.String())
		}
	}
}

// histogramCounts returns "method route status" → sample count.
func histogramCounts(t *testing.T, g prometheus.Gatherer, name string) map[string]uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[label(m, "method")+" "+label(m, "route")+" "+label(m, "status")] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
