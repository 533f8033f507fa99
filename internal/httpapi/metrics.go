package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// unmatchedRoute labels requests no route matched, so scanners probing
// random paths cannot grow the metric's label set.
const unmatchedRoute = "unmatched"

// requestMetrics records every request's duration by method, route template
// (c.FullPath(), e.g. /api/v1/cases/:id, never the raw path with ids) and
// status code.
func requestMetrics(reg prometheus.Registerer) gin.HandlerFunc {
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "moonlight_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method, route template and status code.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"method", "route", "status"})
	reg.MustRegister(hist)
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		method := c.Request.Method
		if !knownMethod(method) {
			method = "other"
		}
		hist.WithLabelValues(method, route, strconv.Itoa(c.Writer.Status())).Observe(time.Since(start).Seconds())
	}
}

func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// AdminHandler serves /metrics, /healthz and /readyz alone, for the admin
// listener (http.admin_addr): scrapers and probes reach it, users do not.
func AdminHandler(cfg Config) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(recovery(cfg.Log))
	r.GET("/healthz", healthz)
	r.GET("/readyz", readyz(cfg.Checks))
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{})))
	return r
}

func healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }
