// Package httpapi is the HTTP server: health, readiness, metrics, the OpenAPI
// document and the /api/v1 routes. Handlers are thin: bind, validate, call the
// domain, map the result; one error middleware writes every error.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/trace"

	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/tracing"
)

// Check reports whether one dependency is reachable.
type Check func(ctx context.Context) error

// Routes adds a group of API routes; feature packages provide one each.
type Routes interface {
	// Register adds routes under api (already authenticated).
	Register(api *gin.RouterGroup)
}

// Config configures the server.
type Config struct {
	MaxBodyBytes int64
	Log          *slog.Logger
	Verifier     auth.Verifier
	// Checks are the dependencies /readyz checks, by name ("kafka", "mongodb").
	Checks   map[string]Check
	Gatherer prometheus.Gatherer
	// Registerer, when set, receives the HTTP request metrics.
	Registerer prometheus.Registerer
	// MetricsElsewhere leaves /metrics off this handler: it is served on the
	// admin listener (AdminHandler) instead.
	MetricsElsewhere bool
	Routes           []Routes
	Mappers          []Mapper
	// Extra registers routes outside /api/v1 (the web UI).
	Extra func(r *gin.Engine)
	// Audit, when set, records every request refused by a role guard
	// (auth.Require) as access.denied; the services record their own.
	Audit audit.Store
	// Tracer, when set, traces each request (otelgin, W3C trace context
	// from the caller); nil traces nothing.
	Tracer trace.TracerProvider
}

// New builds the handler.
func New(cfg Config) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	logf := func(c *gin.Context, status int, err error) {
		lvl := slog.LevelInfo
		if status >= 500 {
			lvl = slog.LevelError
		}
		cfg.Log.Log(c.Request.Context(), lvl, "request failed", "request_id", c.GetString(requestIDKey),
			"method", c.Request.Method, "route", c.FullPath(), "status", status, "err", err)
	}
	// The error middleware comes before anything that may record an error.
	if cfg.Tracer != nil {
		r.Use(otelgin.Middleware("moonlight", otelgin.WithTracerProvider(cfg.Tracer), otelgin.WithPropagators(tracing.Propagator)))
	}
	if cfg.Registerer != nil {
		r.Use(requestMetrics(cfg.Registerer))
	}
	r.Use(requestID(), recovery(cfg.Log), securityHeaders(), accessLog(cfg.Log), errorMiddleware(cfg.Mappers, logf),
		auditDenied(cfg.Audit, cfg.Log), limitBody(cfg.MaxBodyBytes))
	r.NoRoute(func(c *gin.Context) {
		_ = c.Error(&Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such route"})
	})
	r.NoMethod(func(c *gin.Context) {
		_ = c.Error(&Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed on this route"})
	})

	r.GET("/healthz", healthz)
	r.GET("/readyz", readyz(cfg.Checks))
	if !cfg.MetricsElsewhere {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{})))
	}
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml; charset=utf-8", OpenAPI) })

	api := r.Group("/api/v1", auth.Middleware(cfg.Verifier))
	for _, rt := range cfg.Routes {
		rt.Register(api)
	}
	if cfg.Extra != nil {
		cfg.Extra(r)
	}
	return r
}

func readyz(checks map[string]Check) gin.HandlerFunc {
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
		defer cancel()
		status := http.StatusOK
		deps := gin.H{}
		var down []string
		for _, n := range names {
			if err := checks[n](ctx); err != nil {
				status = http.StatusServiceUnavailable
				deps[n] = "down"
				down = append(down, n)
				continue
			}
			deps[n] = "up"
		}
		if status != http.StatusOK {
			c.JSON(status, gin.H{"status": "unavailable", "down": down, "dependencies": deps})
			return
		}
		c.JSON(status, gin.H{"status": "ready", "dependencies": deps})
	}
}

const requestIDKey = "request_id"

// requestID gives every request an id of ours, whatever the client sent,
// so log lines and audit entries cannot be made to carry a forged or
// colliding id. A client's X-Request-Id is kept apart (audit entries'
// client_request_id) when it has a safe shape.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		c.Set(requestIDKey, id)
		c.Header("X-Request-Id", id)
		if theirs := c.GetHeader("X-Request-Id"); audit.ClientRequestIDPattern.MatchString(theirs) {
			c.Set(clientRequestIDKey, theirs)
			c.Request = c.Request.WithContext(audit.WithClientRequestID(c.Request.Context(), theirs))
		}
		c.Next()
	}
}

const clientRequestIDKey = "client_request_id"

// RequestID returns the request's id for audit entries and logs.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				log.Error("handler panicked", "request_id", c.GetString(requestIDKey), "route", c.FullPath(), "panic", v)
				if !c.Writer.Written() {
					c.AbortWithStatusJSON(http.StatusInternalServerError, errorBody{Error: errorPayload{Code: "internal", Message: "internal error; it has been logged", Details: []Detail{}}})
				}
			}
		}()
		c.Next()
	}
}

func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if h.Get("Content-Security-Policy") == "" {
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		}
		c.Next()
	}
}

// accessLog logs ids and outcome only: never bodies, which carry personal data.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		if c.Request.URL.Path == "/metrics" || c.Request.URL.Path == "/healthz" || c.Request.URL.Path == "/readyz" {
			return
		}
		sub := ""
		if p, ok := auth.FromContext(c); ok {
			sub = p.Subject
		}
		log.Debug("http", "request_id", c.GetString(requestIDKey), "method", c.Request.Method, "route", c.FullPath(),
			"status", c.Writer.Status(), "subject", sub, "ms", time.Since(start).Milliseconds())
	}
}

func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !strings.HasPrefix(c.Request.URL.Path, "/api/") && c.Request.Method == http.MethodPost {
			// A web form: its page answers a too-large body with the form,
			// what fit of it and a message (web.BodyTruncatedKey), never
			// with this API's JSON error.
			c.Request.Body = &truncatingBody{r: c.Request.Body, left: n, c: c}
			c.Next()
			return
		}
		if c.Request.ContentLength > n {
			_ = c.Error(&Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "request body is larger than the limit"})
			c.Abort()
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// truncatingBody reads at most left bytes of a web form's body, then ends
// it and marks the request (key "moonlight.body_truncated").
type truncatingBody struct {
	r    io.ReadCloser
	left int64
	c    *gin.Context
}

func (b *truncatingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			b.c.Set("moonlight.body_truncated", true)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *truncatingBody) Close() error { return b.r.Close() }

// auditDenied records a request a role guard refused (auth.ErrForbidden)
// as access.denied: who, which route, which roles it needed. It runs after
// the handlers, before the error is written; a failing append turns the
// answer into a 500, so no refusal goes unrecorded.
func auditDenied(store audit.Store, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if store == nil || len(c.Errors) == 0 || !errors.Is(c.Errors[0].Err, auth.ErrForbidden) {
			return
		}
		p, _ := auth.FromContext(c)
		e := audit.Entry{
			ID: audit.NewID(), At: time.Now().UTC(), Actor: p.Subject, ActorRoles: p.Roles, Action: audit.ActionAccessDenied,
			ResourceType: "route", ResourceID: c.Request.Method + " " + c.FullPath(), Reason: clipText(c.Errors[0].Err.Error(), 200),
			Details: map[string]string{"attempt": "api"}, RequestID: RequestID(c),
		}
		if err := store.Append(c.Request.Context(), e); err != nil {
			log.Error("audit of a refused request failed", "request_id", RequestID(c), "err", err)
			c.Errors = c.Errors[:0]
			_ = c.Error(err)
		}
	}
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
