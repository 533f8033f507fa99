package auth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// oidcHTTPTimeout bounds discovery and JWKS requests to the IdP.
const oidcHTTPTimeout = 10 * time.Second

type oidcVerifier struct {
	verifier   *oidc.IDTokenVerifier
	issuer     string
	audience   string
	rolesClaim string
	skew       time.Duration
	now        func() time.Time
	maxLife    time.Duration
}

func newOIDCVerifier(ctx context.Context, cfg Config, now func() time.Time) (*oidcVerifier, error) {
	client := &http.Client{Timeout: oidcHTTPTimeout}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.OIDC.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery at %s: %w", cfg.OIDC.IssuerURL, err)
	}
	// The key set outlives ctx (it refetches on key rotation), so it gets a
	// context that carries the client but not ctx's cancellation.
	keyCtx := oidc.ClientContext(context.WithoutCancel(ctx), client)
	verifier := provider.VerifierContext(keyCtx, &oidc.Config{
		// Signature and algorithm are go-oidc's job; issuer, audience, exp
		// and nbf are checked below, with ClockSkew and with the same
		// reasons as dev mode.
		SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256},
		SkipClientIDCheck:    true,
		SkipIssuerCheck:      true,
		SkipExpiryCheck:      true,
	})
	return &oidcVerifier{
		verifier:   verifier,
		issuer:     cfg.OIDC.IssuerURL,
		audience:   cfg.OIDC.Audience,
		rolesClaim: cfg.RolesClaim,
		skew:       cfg.ClockSkew,
		now:        now,
		maxLife:    cfg.MaxTokenLifetime,
	}, nil
}

func (v *oidcVerifier) Verify(ctx context.Context, raw string) (Principal, error) {
	if raw == "" {
		return Principal{}, unauthenticated(reasonMissingToken, nil)
	}
	if len(raw) > maxTokenBytes {
		return Principal{}, unauthenticated(reasonMalformed, nil)
	}
	tok, err := v.verifier.Verify(ctx, raw)
	if err != nil {
		// go-oidc does not type its errors; its text says what was wrong
		// and holds nothing secret.
		return Principal{}, unauthenticated(reasonInvalid+": "+err.Error(), err)
	}
	if tok.Issuer != v.issuer {
		return Principal{}, unauthenticated(reasonIssuer, nil)
	}
	if !slices.Contains(tok.Audience, v.audience) {
		return Principal{}, unauthenticated(reasonAudience, nil)
	}
	var std struct {
		NotBefore *float64 `json:"nbf"`
	}
	claims := map[string]any{}
	if err := tok.Claims(&std); err != nil {
		return Principal{}, unauthenticated(reasonMalformed, err)
	}
	if err := tok.Claims(&claims); err != nil {
		return Principal{}, unauthenticated(reasonMalformed, err)
	}
	now := v.now()
	switch {
	case tok.Expiry.IsZero():
		return Principal{}, unauthenticated(reasonMissingClaim, nil)
	case !now.Before(tok.Expiry.Add(v.skew)):
		return Principal{}, unauthenticated(reasonExpired, nil)
	case std.NotBefore != nil && now.Add(v.skew).Before(time.Unix(int64(*std.NotBefore), 0)):
		return Principal{}, unauthenticated(reasonNotYetValid, nil)
	case tok.Subject == "":
		return Principal{}, unauthenticated(reasonMissingClaim, nil)
	case !lifetimeOK(tok.IssuedAt, tok.Expiry, now, v.maxLife):
		return Principal{}, unauthenticated(reasonLifetime, nil)
	}
	return Principal{Subject: tok.Subject, Roles: RolesFromClaims(claims, v.rolesClaim), Name: NameFromClaims(claims)}, nil
}
