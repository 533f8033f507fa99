package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// errorMapper stands in for the real error middleware: the status comes
// only from the sentinel the auth code wrapped.
func errorMapper(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 {
		return
	}
	err := c.Errors.Last().Err
	status, code := http.StatusInternalServerError, "internal"
	switch {
	case errors.Is(err, ErrUnauthenticated):
		status, code = http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, ErrForbidden):
		status, code = http.StatusForbidden, "forbidden"
	}
	c.JSON(status, gin.H{"error": gin.H{"code": code, "message": err.Error()}})
}

func testRouter(t *testing.T) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.TestMode)
	v, err := NewVerifier(context.Background(), devConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(errorMapper)
	// No Middleware in front: Require must not let anyone through.
	r.GET("/unguarded", Require(RoleAdmin), func(c *gin.Context) { c.String(http.StatusOK, "leak") })
	api := r.Group("/api", Middleware(v))
	api.GET("/me", func(c *gin.Context) {
		p, ok := FromContext(c)
		fromCtx, ok2 := PrincipalFrom(c.Request.Context())
		if !ok || !ok2 || fromCtx.Subject != p.Subject {
			c.String(http.StatusInternalServerError, "principal missing")
			return
		}
		c.JSON(http.StatusOK, gin.H{"subject": p.Subject, "roles": p.Roles})
	})
	api.GET("/cases", Require(RoleCompliance, RoleAuditor), func(c *gin.Context) { c.String(http.StatusOK, "cases") })
	return r
}

func TestMiddleware(t *testing.T) {
	r := testRouter(t)
	now := time.Now()
	token := func(roles ...string) string {
		tok, err := IssueDevToken(devConfig(), "E1001", roles, now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	expired, err := IssueDevToken(Config{Mode: ModeDev, Dev: DevConfig{SigningKey: testKey, TokenTTL: time.Minute}}, "E1001", nil, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		path       string
		giveAuth   string
		wantStatus int
		wantCode   string
		wantBody   string
	}{
		{name: "no header", path: "/api/me", wantStatus: 401, wantCode: "unauthorized"},
		{name: "basic scheme", path: "/api/me", giveAuth: "Basic dXNlcjpwYXNz", wantStatus: 401, wantCode: "unauthorized"},
		{name: "bearer without token", path: "/api/me", giveAuth: "Bearer ", wantStatus: 401, wantCode: "unauthorized"},
		{name: "token without scheme", path: "/api/me", giveAuth: token(), wantStatus: 401, wantCode: "unauthorized"},
		{name: "garbage token", path: "/api/me", giveAuth: "Bearer garbage", wantStatus: 401, wantCode: "unauthorized"},
		{name: "expired token", path: "/api/me", giveAuth: "Bearer " + expired, wantStatus: 401, wantCode: "unauthorized"},
		{name: "valid employee", path: "/api/me", giveAuth: "Bearer " + token(), wantStatus: 200,
			wantBody: `{"roles":["employee"],"subject":"E1001"}`},
		{name: "scheme is case-insensitive", path: "/api/me", giveAuth: "bearer " + token(RoleManager), wantStatus: 200,
			wantBody: `{"roles":["employee","manager"],"subject":"E1001"}`},
		{name: "employee on compliance route", path: "/api/cases", giveAuth: "Bearer " + token(), wantStatus: 403, wantCode: "forbidden"},
		{name: "manager on compliance route", path: "/api/cases", giveAuth: "Bearer " + token(RoleManager), wantStatus: 403, wantCode: "forbidden"},
		{name: "compliance", path: "/api/cases", giveAuth: "Bearer " + token(RoleCompliance), wantStatus: 200, wantBody: "cases"},
		{name: "auditor", path: "/api/cases", giveAuth: "Bearer " + token(RoleAuditor), wantStatus: 200, wantBody: "cases"},
		{name: "no token on compliance route", path: "/api/cases", wantStatus: 401, wantCode: "unauthorized"},
		{name: "Require without Middleware", path: "/unguarded", giveAuth: "Bearer " + token(RoleAdmin), wantStatus: 401, wantCode: "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.giveAuth != "" {
				req.Header.Set("Authorization", tt.giveAuth)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Fatalf("body = %s, want %s", w.Body, tt.wantBody)
			}
			if tt.wantCode == "" {
				return
			}
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", w.Body, err)
			}
			if body.Error.Code != tt.wantCode || body.Error.Message == "" {
				t.Fatalf("error = %+v, want code %s and a message", body.Error, tt.wantCode)
			}
			if tt.wantStatus == 401 && tt.path != "/unguarded" && w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate header")
			}
		})
	}
}

func TestRequirePanicsOnBadRoles(t *testing.T) {
	tests := []struct {
		name string
		give []string
	}{
		{name: "no roles", give: nil},
		{name: "typo", give: []string{RoleCompliance, "complaince"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Require did not panic")
				}
			}()
			Require(tt.give...)
		})
	}
}
