package auth

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	oidc := func(issuer string) Config {
		return Config{Mode: ModeOIDC, OIDC: OIDCConfig{IssuerURL: issuer, ClientID: "moonlight"}}
	}
	tests := []struct {
		name    string
		give    Config
		wantErr []string // substrings; none means valid
	}{
		{name: "dev", give: devConfig()},
		{name: "default config plus key", give: func() Config { c := DefaultConfig(); c.Dev.SigningKey = testKey; return c }()},
		{name: "default config without key", give: DefaultConfig(), wantErr: []string{"auth.dev.signing_key must be at least 32 bytes, got 0"}},
		{name: "oidc https", give: oidc("https://login.example.com/realms/corp")},
		{name: "oidc loopback http", give: oidc("http://127.0.0.1:8081")},
		{name: "oidc localhost http", give: oidc("http://localhost:8081/realms/dev")},
		{name: "oidc plain http elsewhere", give: oidc("http://login.example.com"), wantErr: []string{"must use https"}},
		{name: "oidc relative issuer", give: oidc("login.example.com"), wantErr: []string{"absolute URL"}},
		{name: "oidc no issuer", give: oidc(""), wantErr: []string{"auth.oidc.issuer_url must be set"}},
		{name: "oidc no audience at all", give: Config{Mode: ModeOIDC, OIDC: OIDCConfig{IssuerURL: "https://idp.example"}},
			wantErr: []string{"auth.oidc.audience"}},
		{name: "oidc audience without client id", give: Config{Mode: ModeOIDC, Audience: "api", OIDC: OIDCConfig{IssuerURL: "https://idp.example"}}},
		{name: "oidc bad redirect", give: func() Config { c := oidc("https://idp.example"); c.OIDC.RedirectURL = "/cb"; return c }(),
			wantErr: []string{"redirect_url"}},
		{name: "unknown mode", give: Config{Mode: "ldap"}, wantErr: []string{`auth.mode must be "dev" or "oidc", got "ldap"`}},
		{name: "several problems at once",
			give:    Config{Mode: ModeDev, RolesClaim: "realm_access..roles", ClockSkew: time.Hour, Dev: DevConfig{SigningKey: "short", TokenTTL: -time.Minute}},
			wantErr: []string{"empty path segment", "clock_skew", "signing_key", "token_ttl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.give.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want errors %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestConfigWithDefaults(t *testing.T) {
	tests := []struct {
		name         string
		give         Config
		wantAudience string // the audience Verify will expect
	}{
		{name: "dev defaults", give: Config{Mode: ModeDev}, wantAudience: DefaultAudience},
		{name: "oidc defaults to client id", give: Config{Mode: ModeOIDC, OIDC: OIDCConfig{ClientID: "cid"}}, wantAudience: "cid"},
		{name: "oidc shared audience", give: Config{Mode: ModeOIDC, Audience: "api", OIDC: OIDCConfig{ClientID: "cid"}}, wantAudience: "api"},
		{name: "oidc own audience wins", give: Config{Mode: ModeOIDC, Audience: "api", OIDC: OIDCConfig{ClientID: "cid", Audience: "oidc-api"}}, wantAudience: "oidc-api"},
		{name: "DefaultConfig switched to oidc", give: func() Config { c := DefaultConfig(); c.Mode = ModeOIDC; c.OIDC.ClientID = "cid"; return c }(), wantAudience: "cid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.give.WithDefaults()
			got := c.Audience
			if c.Mode == ModeOIDC {
				got = c.OIDC.Audience
			}
			if got != tt.wantAudience {
				t.Fatalf("audience = %q, want %q", got, tt.wantAudience)
			}
			if c.RolesClaim != DefaultRolesClaim || c.ClockSkew != DefaultClockSkew || c.Dev.TokenTTL != DefaultTokenTTL {
				t.Fatalf("defaults not applied: %+v", c)
			}
		})
	}
}

func TestSecretsMasked(t *testing.T) {
	c := devConfig()
	c.OIDC.ClientSecret = "client-secret-value"
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(c.Dev.SigningKey), string(js)} {
		if strings.Contains(out, testKey) || strings.Contains(out, "client-secret-value") {
			t.Errorf("secret leaked: %s", out)
		}
		if !strings.Contains(out, masked) {
			t.Errorf("no %s marker in %s", masked, out)
		}
	}
	if string(c.Dev.SigningKey) != testKey {
		t.Fatal("string conversion must give the real value")
	}
}

func TestPrincipalRoles(t *testing.T) {
	p := Principal{Subject: "E1", Roles: normalizeRoles([]string{" manager ", "Admin", "manager"})}
	tests := []struct {
		give []string
		want bool
	}{
		{give: []string{RoleEmployee}, want: true},
		{give: []string{RoleManager}, want: true},
		{give: []string{RoleAdmin}, want: false}, // roles are case-sensitive
		{give: []string{RoleCompliance, RoleAuditor}, want: false},
		{give: []string{RoleCompliance, RoleManager}, want: true},
		{give: nil, want: false},
	}
	for _, tt := range tests {
		if got := p.HasAny(tt.give...); got != tt.want {
			t.Errorf("HasAny(%v) = %v, want %v (roles %v)", tt.give, got, tt.want, p.Roles)
		}
	}
}
