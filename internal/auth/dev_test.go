package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testKey = "0123456789abcdef0123456789abcdef-test-only"

var testNow = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

func devConfig() Config {
	return Config{Mode: ModeDev, Dev: DevConfig{SigningKey: testKey}}
}

// hs256 signs claims with key; a nil claims value deletes the default.
func hs256(t *testing.T, key string, over jwt.MapClaims) string {
	t.Helper()
	claims := jwt.MapClaims{
		"iss": DefaultDevIssuer, "aud": DefaultAudience, "sub": "E1001",
		"iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
		"roles": []string{"manager"},
	}
	for k, v := range over {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDevVerify(t *testing.T) {
	issued, err := IssueDevToken(devConfig(), "E1001", []string{RoleManager}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
		"iss": DefaultDevIssuer, "aud": DefaultAudience, "sub": "E1001", "exp": testNow.Add(time.Hour).Unix(),
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{
		"iss": DefaultDevIssuer, "aud": DefaultAudience, "sub": "E1001", "exp": testNow.Add(time.Hour).Unix(),
	}).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	// Same header and claims as a valid token, signature from another key.
	parts := strings.Split(issued, ".")
	other := strings.Split(hs256(t, "another-key-that-is-32-bytes-long!!", nil), ".")
	spliced := parts[0] + "." + parts[1] + "." + other[2]

	tests := []struct {
		name       string
		give       string
		wantReason string // empty: must verify
		wantRoles  []string
	}{
		{name: "issued by IssueDevToken", give: issued, wantRoles: []string{RoleEmployee, RoleManager}},
		{name: "valid hand-made", give: hs256(t, testKey, nil), wantRoles: []string{RoleEmployee, RoleManager}},
		// Issue 10, item 9: tokens could live 100 years (cap: auth.max_token_lifetime).
		{name: "lives 100 years", give: hs256(t, testKey, jwt.MapClaims{"exp": testNow.AddDate(100, 0, 0).Unix()}), wantReason: reasonLifetime},
		{name: "no iat, ends in a year", give: hs256(t, testKey, jwt.MapClaims{"iat": nil, "exp": testNow.AddDate(1, 0, 0).Unix()}), wantReason: reasonLifetime},
		{name: "lives exactly the cap", give: hs256(t, testKey, jwt.MapClaims{"exp": testNow.Add(DefaultMaxTokenLifetime).Unix()}), wantRoles: []string{RoleEmployee, RoleManager}},
		{name: "expired a minute ago", give: hs256(t, testKey, jwt.MapClaims{"exp": testNow.Add(-time.Minute).Unix()}), wantReason: reasonExpired},
		{name: "expired within clock skew", give: hs256(t, testKey, jwt.MapClaims{"exp": testNow.Add(-10 * time.Second).Unix()}), wantRoles: []string{RoleEmployee, RoleManager}},
		{name: "not valid yet", give: hs256(t, testKey, jwt.MapClaims{"nbf": testNow.Add(5 * time.Minute).Unix()}), wantReason: reasonNotYetValid},
		{name: "issued in the future", give: hs256(t, testKey, jwt.MapClaims{"iat": testNow.Add(5 * time.Minute).Unix()}), wantReason: reasonNotYetValid},
		{name: "wrong audience", give: hs256(t, testKey, jwt.MapClaims{"aud": "someone-else"}), wantReason: reasonAudience},
		{name: "no audience", give: hs256(t, testKey, jwt.MapClaims{"aud": nil}), wantReason: reasonMissingClaim},
		{name: "no issuer", give: hs256(t, testKey, jwt.MapClaims{"iss": nil}), wantReason: reasonMissingClaim},
		{name: "wrong issuer", give: hs256(t, testKey, jwt.MapClaims{"iss": "https://evil.example"}), wantReason: reasonIssuer},
		{name: "no expiry", give: hs256(t, testKey, jwt.MapClaims{"exp": nil}), wantReason: reasonMissingClaim},
		{name: "no subject", give: hs256(t, testKey, jwt.MapClaims{"sub": nil}), wantReason: reasonMissingClaim},
		{name: "alg none", give: none, wantReason: reasonSignature},
		{name: "HS512 with the right key", give: hs512, wantReason: reasonSignature},
		{name: "wrong key", give: hs256(t, "another-key-that-is-32-bytes-long!!", nil), wantReason: reasonSignature},
		{name: "signature from another key spliced on", give: spliced, wantReason: reasonSignature},
		{name: "garbage", give: "not-a-jwt", wantReason: reasonMalformed},
		{name: "three garbage parts", give: "a.b.c", wantReason: reasonMalformed},
		{name: "empty", give: "", wantReason: reasonMissingToken},
		{name: "oversized", give: strings.Repeat("a", maxTokenBytes+1), wantReason: reasonMalformed},
	}
	v, err := newVerifier(context.Background(), devConfig(), func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), tt.give)
			checkVerify(t, p, err, tt.wantReason, "E1001", tt.wantRoles)
		})
	}
}

// checkVerify asserts either a failure for the given reason or a principal.
func checkVerify(t *testing.T, p Principal, err error, wantReason, wantSub string, wantRoles []string) {
	t.Helper()
	if wantReason != "" {
		if !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("err = %v, want one wrapping ErrUnauthenticated", err)
		}
		if !strings.Contains(err.Error(), wantReason) {
			t.Fatalf("err = %q, want reason %q", err, wantReason)
		}
		if p.Subject != "" {
			t.Fatalf("principal %+v returned with an error", p)
		}
		return
	}
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p.Subject != wantSub || !slices.Equal(p.Roles, wantRoles) {
		t.Fatalf("principal = %+v, want subject %s roles %v", p, wantSub, wantRoles)
	}
}

func TestDevRolesClaim(t *testing.T) {
	tests := []struct {
		name       string
		rolesClaim string
		give       jwt.MapClaims
		want       []string
	}{
		{name: "array", rolesClaim: "roles", give: jwt.MapClaims{"roles": []string{"compliance", "auditor"}},
			want: []string{RoleAuditor, RoleCompliance, RoleEmployee}},
		{name: "space and comma separated string", rolesClaim: "roles", give: jwt.MapClaims{"roles": "manager, admin ingest"},
			want: []string{RoleAdmin, RoleEmployee, RoleIngest, RoleManager}},
		{name: "unknown roles dropped, duplicates merged", rolesClaim: "roles", give: jwt.MapClaims{"roles": []any{"offline_access", "admin", "admin", 7}},
			want: []string{RoleAdmin, RoleEmployee}},
		{name: "nested path", rolesClaim: "realm_access.roles", give: jwt.MapClaims{"roles": nil, "realm_access": map[string]any{"roles": []string{"auditor"}}},
			want: []string{RoleAuditor, RoleEmployee}},
		{name: "dotted claim name", rolesClaim: "https://moonlight.example/roles", give: jwt.MapClaims{"roles": nil, "https://moonlight.example/roles": []string{"compliance"}},
			want: []string{RoleCompliance, RoleEmployee}},
		{name: "missing claim gives employee only", rolesClaim: "groups", give: nil, want: []string{RoleEmployee}},
		{name: "wrong shape gives employee only", rolesClaim: "roles", give: jwt.MapClaims{"roles": map[string]any{"admin": true}},
			want: []string{RoleEmployee}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := devConfig()
			cfg.RolesClaim = tt.rolesClaim
			v, err := newVerifier(context.Background(), cfg, func() time.Time { return testNow })
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.Verify(context.Background(), hs256(t, testKey, tt.give))
			checkVerify(t, p, err, "", "E1001", tt.want)
		})
	}
}

func TestIssueDevToken(t *testing.T) {
	t.Run("round trip through a nested roles claim", func(t *testing.T) {
		cfg := devConfig()
		cfg.RolesClaim = "realm_access.roles"
		tok, err := IssueDevToken(cfg, "E2002", []string{RoleCompliance, RoleAuditor}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		v, err := newVerifier(context.Background(), cfg, func() time.Time { return testNow.Add(DefaultTokenTTL - time.Minute) })
		if err != nil {
			t.Fatal(err)
		}
		p, err := v.Verify(context.Background(), tok)
		checkVerify(t, p, err, "", "E2002", []string{RoleAuditor, RoleCompliance, RoleEmployee})
	})
	t.Run("expires after the TTL", func(t *testing.T) {
		cfg := devConfig()
		cfg.Dev.TokenTTL = time.Hour
		tok, err := IssueDevToken(cfg, "E2002", nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		v, err := newVerifier(context.Background(), cfg, func() time.Time { return testNow.Add(time.Hour + time.Minute) })
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), tok)
		checkVerify(t, Principal{}, err, reasonExpired, "", nil)
	})

	tests := []struct {
		name    string
		cfg     Config
		subject string
		roles   []string
		wantIs  error
		wantMsg string
	}{
		{name: "oidc mode refuses", cfg: Config{Mode: ModeOIDC, Dev: DevConfig{SigningKey: testKey}}, subject: "E1", wantIs: ErrNotDevMode},
		{name: "empty mode refuses", cfg: Config{Dev: DevConfig{SigningKey: testKey}}, subject: "E1", wantIs: ErrNotDevMode},
		{name: "short key", cfg: Config{Mode: ModeDev, Dev: DevConfig{SigningKey: "short"}}, subject: "E1", wantMsg: "signing_key must be at least 32 bytes"},
		{name: "no subject", cfg: devConfig(), subject: " ", wantMsg: "subject is required"},
		{name: "unknown role", cfg: devConfig(), subject: "E1", roles: []string{"complaince"}, wantMsg: `unknown role "complaince"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := IssueDevToken(tt.cfg, tt.subject, tt.roles, testNow)
			if err == nil {
				t.Fatalf("IssueDevToken = %q, want an error", tok)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}
