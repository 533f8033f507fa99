package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type devVerifier struct {
	key         []byte
	rolesClaim  string
	parser      *jwt.Parser
	maxLifetime time.Duration
	now         func() time.Time
}

func newDevVerifier(cfg Config, now func() time.Time) *devVerifier {
	return &devVerifier{
		key:         []byte(cfg.Dev.SigningKey),
		rolesClaim:  cfg.RolesClaim,
		maxLifetime: cfg.MaxTokenLifetime,
		now:         now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(cfg.Dev.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.ClockSkew),
			jwt.WithTimeFunc(now),
		),
	}
}

func (v *devVerifier) Verify(_ context.Context, raw string) (Principal, error) {
	if raw == "" {
		return Principal{}, unauthenticated(reasonMissingToken, nil)
	}
	if len(raw) > maxTokenBytes {
		return Principal{}, unauthenticated(reasonMalformed, nil)
	}
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		// WithValidMethods already refuses other algorithms; this keeps the
		// key from ever being handed to another one.
		if t.Method != jwt.SigningMethodHS256 {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return v.key, nil
	})
	if err != nil {
		return Principal{}, unauthenticated(jwtReason(err), err)
	}
	sub, _ := claims.GetSubject()
	if sub == "" {
		return Principal{}, unauthenticated(reasonMissingClaim, nil)
	}
	exp, _ := claims.GetExpirationTime() // required by the parser
	var iat time.Time
	if t, _ := claims.GetIssuedAt(); t != nil {
		iat = t.Time
	}
	if exp == nil || !lifetimeOK(iat, exp.Time, v.now(), v.maxLifetime) {
		return Principal{}, unauthenticated(reasonLifetime, nil)
	}
	return Principal{Subject: sub, Roles: RolesFromClaims(claims, v.rolesClaim), Name: NameFromClaims(claims)}, nil
}

func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return reasonMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return reasonSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return reasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return reasonNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return reasonAudience
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return reasonIssuer
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return reasonMissingClaim
	}
	return reasonInvalid
}

// IssueDevToken signs a token for subject with roles, valid from now for
// cfg.Dev.TokenTTL. It refuses with ErrNotDevMode unless cfg.Mode is dev,
// and rejects unknown roles so a typo on the command line is caught.
func IssueDevToken(cfg Config, subject string, roles []string, now time.Time) (string, error) {
	if cfg.Mode != ModeDev {
		return "", fmt.Errorf("issue token (mode %q): %w", cfg.Mode, ErrNotDevMode)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("auth config: %w", err)
	}
	if strings.TrimSpace(subject) == "" {
		return "", errors.New("issue token: subject is required")
	}
	for _, r := range roles {
		if !IsKnownRole(r) {
			return "", fmt.Errorf("issue token: unknown role %q (roles are %s)", r, strings.Join(KnownRoles(), ", "))
		}
	}
	now = now.Truncate(time.Second)
	claims := jwt.MapClaims{
		"iss": cfg.Dev.Issuer,
		"sub": subject,
		"aud": cfg.Audience,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(cfg.Dev.TokenTTL).Unix(),
	}
	setClaimPath(claims, cfg.RolesClaim, normalizeRoles(roles))
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(cfg.Dev.SigningKey))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

// setClaimPath stores v at a dotted path, making nested objects, so a token
// issued for RolesClaim "realm_access.roles" verifies the same way an IdP's would.
func setClaimPath(claims map[string]any, path string, v any) {
	segs := strings.Split(path, ".")
	cur := claims
	for _, seg := range segs[:len(segs)-1] {
		next, ok := cur[seg].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[seg] = next
		}
		cur = next
	}
	cur[segs[len(segs)-1]] = v
}
