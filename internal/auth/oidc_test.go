package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// idp is a minimal but real OpenID provider: a discovery document and a
// JWKS over HTTP, and the private keys to sign with.
type idp struct {
	srv       *httptest.Server
	rsaKey    *rsa.PrivateKey
	ecKey     *ecdsa.PrivateKey
	jwksFetch atomic.Int32
	// rotated, once set, is published as a second RSA key "rsa-2".
	rotated atomic.Pointer[rsa.PrivateKey]
	// issuerOverride, when set, is the issuer the discovery document claims.
	issuerOverride string
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{rsaKey: rsaKey, ecKey: ecKey}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		issuer := p.srv.URL
		if p.issuerOverride != "" {
			issuer = p.issuerOverride
		}
		writeJSON(w, map[string]any{
			"issuer":                                issuer,
			"jwks_uri":                              p.srv.URL + "/keys",
			"authorization_endpoint":                p.srv.URL + "/auth",
			"token_endpoint":                        p.srv.URL + "/token",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksFetch.Add(1)
		b64 := base64.RawURLEncoding.EncodeToString
		point, err := ecKey.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rsaJWK := func(kid string, k *rsa.PrivateKey) map[string]any {
			return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
		}
		keys := []map[string]any{
			rsaJWK("rsa-1", rsaKey),
			{"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
				"x": b64(point[1:33]), "y": b64(point[33:])},
		}
		if k := p.rotated.Load(); k != nil {
			keys = append(keys, rsaJWK("rsa-2", k))
		}
		writeJSON(w, map[string]any{"keys": keys})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// claims returns a valid claim set for the IdP, with over applied (nil deletes).
func (p *idp) claims(over jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": p.srv.URL, "aud": "moonlight-api", "sub": "E1001", "name": "Li Wei",
		"iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
		"roles": []string{"compliance"},
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func sign(t *testing.T, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (p *idp) config() Config {
	return Config{Mode: ModeOIDC, OIDC: OIDCConfig{IssuerURL: p.srv.URL, ClientID: "moonlight-api"}}
}

func TestOIDCVerify(t *testing.T) {
	p := newIDP(t)
	strangerRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256 := func(over jwt.MapClaims) string {
		return sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsaKey, p.claims(over))
	}
	none := sign(t, jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType, p.claims(nil))
	// Key confusion: HS256 "signed" with the RSA public key's bytes.
	confused := sign(t, jwt.SigningMethodHS256, "rsa-1", p.rsaKey.N.Bytes(), p.claims(nil))

	tests := []struct {
		name       string
		rolesClaim string
		give       string
		wantReason string
		wantRoles  []string
	}{
		{name: "valid RS256", give: rs256(nil), wantRoles: []string{RoleCompliance, RoleEmployee}},
		// Issue 10, item 9: tokens could live 100 years.
		{name: "lives 100 years", give: rs256(jwt.MapClaims{"exp": testNow.AddDate(100, 0, 0).Unix()}), wantReason: reasonLifetime},
		{name: "no iat, ends in 100 years", give: rs256(jwt.MapClaims{"iat": nil, "exp": testNow.AddDate(100, 0, 0).Unix()}), wantReason: reasonLifetime},
		{name: "valid ES256", give: sign(t, jwt.SigningMethodES256, "ec-1", p.ecKey, p.claims(nil)), wantRoles: []string{RoleCompliance, RoleEmployee}},
		{name: "audience list containing ours", give: rs256(jwt.MapClaims{"aud": []string{"account", "moonlight-api"}}), wantRoles: []string{RoleCompliance, RoleEmployee}},
		{name: "roles from nested claim", rolesClaim: "realm_access.roles",
			give:      rs256(jwt.MapClaims{"roles": nil, "realm_access": map[string]any{"roles": []string{"auditor", "uma_authorization"}}}),
			wantRoles: []string{RoleAuditor, RoleEmployee}},
		{name: "nested claim absent gives employee only", rolesClaim: "realm_access.roles", give: rs256(nil), wantRoles: []string{RoleEmployee}},
		{name: "wrong audience", give: rs256(jwt.MapClaims{"aud": "another-app"}), wantReason: reasonAudience},
		{name: "wrong issuer", give: rs256(jwt.MapClaims{"iss": "https://evil.example"}), wantReason: reasonIssuer},
		{name: "expired", give: rs256(jwt.MapClaims{"exp": testNow.Add(-time.Minute).Unix()}), wantReason: reasonExpired},
		{name: "expired within clock skew", give: rs256(jwt.MapClaims{"exp": testNow.Add(-10 * time.Second).Unix()}), wantRoles: []string{RoleCompliance, RoleEmployee}},
		{name: "not valid yet", give: rs256(jwt.MapClaims{"nbf": testNow.Add(2 * time.Minute).Unix()}), wantReason: reasonNotYetValid},
		{name: "no expiry", give: rs256(jwt.MapClaims{"exp": nil}), wantReason: reasonMissingClaim},
		{name: "no subject", give: rs256(jwt.MapClaims{"sub": nil}), wantReason: reasonMissingClaim},
		// go-oidc's own words follow reasonInvalid; they show which check refused.
		{name: "unknown kid", give: sign(t, jwt.SigningMethodRS256, "rotated-away", strangerRSA, p.claims(nil)), wantReason: "failed to verify signature"},
		{name: "known kid, wrong key", give: sign(t, jwt.SigningMethodRS256, "rsa-1", strangerRSA, p.claims(nil)), wantReason: "failed to verify signature"},
		{name: "alg none", give: none, wantReason: `unexpected signature algorithm "none"`},
		{name: "HS256 with the public key", give: confused, wantReason: `unexpected signature algorithm "HS256"`},
		{name: "garbage", give: "a.b.c", wantReason: reasonInvalid + ": oidc: malformed jwt"},
		{name: "empty", give: "", wantReason: reasonMissingToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := p.config()
			cfg.RolesClaim = tt.rolesClaim
			v, err := newVerifier(context.Background(), cfg, func() time.Time { return testNow })
			if err != nil {
				t.Fatal(err)
			}
			pr, err := v.Verify(context.Background(), tt.give)
			checkVerify(t, pr, err, tt.wantReason, "E1001", tt.wantRoles)
			if err == nil && pr.Name != "Li Wei" {
				t.Fatalf("name = %q, want Li Wei", pr.Name)
			}
		})
	}
}

func TestOIDCAudienceConfig(t *testing.T) {
	p := newIDP(t)
	tok := sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsaKey, p.claims(jwt.MapClaims{"aud": "api://moonlight"}))
	tests := []struct {
		name       string
		audience   string
		wantReason string
	}{
		{name: "defaults to client id", audience: "", wantReason: reasonAudience},
		{name: "explicit audience", audience: "api://moonlight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := p.config()
			cfg.OIDC.Audience = tt.audience
			v, err := newVerifier(context.Background(), cfg, func() time.Time { return testNow })
			if err != nil {
				t.Fatal(err)
			}
			pr, err := v.Verify(context.Background(), tok)
			checkVerify(t, pr, err, tt.wantReason, "E1001", []string{RoleCompliance, RoleEmployee})
		})
	}
}

func TestOIDCKeysFetchedOnceAndOnRotation(t *testing.T) {
	p := newIDP(t)
	v, err := newVerifier(context.Background(), p.config(), func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, jwt.SigningMethodRS256, "rsa-1", p.rsaKey, p.claims(nil))
	for range 3 {
		if _, err := v.Verify(context.Background(), good); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.jwksFetch.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times for 3 tokens signed by a known key, want 1 (keys must be cached)", n)
	}

	newKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.rotated.Store(newKey)
	pr, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, "rsa-2", newKey, p.claims(nil)))
	if err != nil {
		t.Fatalf("token signed by a newly published key: %v", err)
	}
	if pr.Subject != "E1001" {
		t.Fatalf("subject = %q", pr.Subject)
	}
	if n := p.jwksFetch.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (one refetch for the new kid)", n)
	}
}

func TestNewVerifierOIDCDiscoveryFailures(t *testing.T) {
	p := newIDP(t)
	p.issuerOverride = "https://someone-else.example"
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	tests := []struct {
		name    string
		give    string
		wantMsg string
	}{
		{name: "discovery names another issuer", give: p.srv.URL, wantMsg: "did not match"},
		{name: "provider unreachable", give: down.URL, wantMsg: "oidc discovery"},
		{name: "no discovery document", give: p.srv.URL + "/nothing-here", wantMsg: "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := p.config()
			cfg.OIDC.IssuerURL = tt.give
			v, err := NewVerifier(context.Background(), cfg)
			if err == nil {
				t.Fatalf("NewVerifier = %v, want an error", v)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}
