package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrUnauthenticated is wrapped by every failure to establish who is
// calling: no token, a malformed, expired or wrongly signed one. It maps to 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrForbidden is wrapped when the caller is known but lacks the role. It maps to 403.
var ErrForbidden = errors.New("forbidden")

// ErrNotDevMode is returned by IssueDevToken outside dev mode.
var ErrNotDevMode = errors.New("tokens can only be issued in auth mode \"dev\"")

// maxTokenBytes bounds the work done on an attacker's input; real tokens
// are a few kilobytes at most.
const maxTokenBytes = 16 << 10

// Verifier checks a raw bearer token and says who sent it.
type Verifier interface {
	// Verify returns the token's principal, or an error wrapping
	// ErrUnauthenticated.
	Verify(ctx context.Context, raw string) (Principal, error)
}

// NewVerifier builds the verifier for cfg.Mode. In oidc mode it fetches the
// provider's discovery document now, so a wrong issuer fails at start-up.
func NewVerifier(ctx context.Context, cfg Config) (Verifier, error) {
	return newVerifier(ctx, cfg, time.Now)
}

func newVerifier(ctx context.Context, cfg Config, now func() time.Time) (Verifier, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("auth config: %w", err)
	}
	switch cfg.Mode {
	case ModeDev:
		return newDevVerifier(cfg, now), nil
	case ModeOIDC:
		return newOIDCVerifier(ctx, cfg, now)
	}
	return nil, fmt.Errorf("auth mode %q: not supported", cfg.Mode) // unreachable after Validate
}

// authError is an authentication failure: a short reason fit for a client,
// wrapping ErrUnauthenticated and, when there is one, the library's error.
type authError struct {
	reason string
	cause  error
}

func unauthenticated(reason string, cause error) error {
	return &authError{reason: reason, cause: cause}
}

func (e *authError) Error() string { return ErrUnauthenticated.Error() + ": " + e.reason }

func (e *authError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrUnauthenticated}
	}
	return []error{ErrUnauthenticated, e.cause}
}

// Reasons shared by both modes, so callers and tests see the same words.
const (
	reasonMissingToken = "missing bearer token"
	reasonMalformed    = "malformed token"
	reasonSignature    = "invalid signature or signing algorithm"
	reasonInvalid      = "invalid token"
	reasonExpired      = "token expired"
	reasonNotYetValid  = "token not valid yet"
	reasonAudience     = "token is not meant for this service (audience)"
	reasonIssuer       = "token issued by an untrusted issuer"
	reasonMissingClaim = "token lacks a required claim (exp, iss, aud or sub)"
	reasonLifetime     = "token lives longer than this service accepts (exp - iat above auth.max_token_lifetime)"
)

// lifetimeOK reports whether a token issued at iat (zero: unknown) and
// expiring at exp lives at most max; without iat it may not end later than
// max from now.
func lifetimeOK(iat, exp, now time.Time, max time.Duration) bool {
	if iat.IsZero() || iat.After(now) {
		iat = now
	}
	return exp.Sub(iat) <= max
}

// claimAt finds a claim by its full name first, then as a dotted path.
func claimAt(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	var cur any = claims
	for _, seg := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// RolesFromClaims reads the roles claim (a top-level name or a dotted path)
// as an array of strings or one string of space- or comma-separated names;
// unknown roles are dropped and RoleEmployee is always there. A claim of any
// other shape grants no more: least privilege rather than an error. The web
// sign-in reads ID tokens with it, so both entry points agree.
func RolesFromClaims(claims map[string]any, name string) []string {
	v, _ := claimAt(claims, name)
	var raw []string
	switch v := v.(type) {
	case string:
		raw = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				raw = append(raw, s)
			}
		}
	case []string:
		raw = v
	}
	return normalizeRoles(raw)
}

// NameFromClaims prefers the display name, then the IdP's user name.
func NameFromClaims(claims map[string]any) string {
	for _, k := range []string{"name", "preferred_username"} {
		if s, ok := claims[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
