package auth

import (
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
)

type ginPrincipalKey struct{}

// Middleware authenticates every request by its "Authorization: Bearer"
// header. On failure it records an error wrapping ErrUnauthenticated with
// c.Error and aborts, leaving the response to the error middleware. On
// success the Principal is available from FromContext and, for code that
// only sees the request's context, from PrincipalFrom.
func Middleware(v Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw, err := bearerToken(c.GetHeader("Authorization"))
		var p Principal
		if err == nil {
			p, err = v.Verify(c.Request.Context(), raw)
		}
		if err != nil {
			// RFC 6750: tell the client which scheme to use.
			c.Header("WWW-Authenticate", `Bearer realm="moonlight"`)
			_ = c.Error(err)
			c.Abort()
			return
		}
		c.Set(ginPrincipalKey{}, p)
		c.Request = c.Request.WithContext(WithPrincipal(c.Request.Context(), p))
		c.Next()
	}
}

func bearerToken(header string) (string, error) {
	if header == "" {
		return "", unauthenticated(reasonMissingToken, nil)
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(header), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", unauthenticated("authorization scheme must be Bearer", nil)
	}
	if token = strings.TrimSpace(token); token == "" {
		return "", unauthenticated(reasonMissingToken, nil)
	}
	return token, nil
}

// FromContext returns the principal Middleware stored.
func FromContext(c *gin.Context) (Principal, bool) {
	v, ok := c.Get(ginPrincipalKey{})
	if !ok {
		return Principal{}, false
	}
	p, ok := v.(Principal)
	return p, ok
}

// Require lets the request through only when the principal holds at least
// one of roles; otherwise it records an error wrapping ErrForbidden (or
// ErrUnauthenticated, if Middleware did not run) and aborts. It panics at
// route set-up on an empty or unknown role, because such a guard would
// silently lock everyone out.
func Require(roles ...string) gin.HandlerFunc {
	if len(roles) == 0 {
		panic("auth.Require: no roles given")
	}
	for _, r := range roles {
		if !IsKnownRole(r) {
			panic(fmt.Sprintf("auth.Require: unknown role %q", r))
		}
	}
	need := strings.Join(roles, " or ")
	return func(c *gin.Context) {
		p, ok := FromContext(c)
		if !ok {
			_ = c.Error(unauthenticated("no authenticated principal", nil))
			c.Abort()
			return
		}
		if !p.HasAny(roles...) {
			_ = c.Error(fmt.Errorf("%w: requires role %s", ErrForbidden, need))
			c.Abort()
			return
		}
		c.Next()
	}
}
