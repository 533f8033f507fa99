package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEventGrantsFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	yaml := "events:\n  grants:\n    svc-loader: {types: [\"*\"], sources: [\"*\"]}\n    svc-HRIS: {types: [\"hr.*\"], sources: [hris/workday-cn]}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Events.Grants.Check("svc-loader", "hr.employee.updated", "x"); err != nil {
		t.Errorf("loader: %v", err)
	}
	if err := cfg.Events.Grants.Check("svc-HRIS", "hr.employee.updated", "hris/workday-cn"); err != nil {
		t.Errorf("account names keep their case: %v (grants %+v)", err, cfg.Events.Grants)
	}
	if d, err := Load("", nil); err != nil || len(d.Events.Grants) != 0 {
		t.Errorf("default grants = %+v, %v; want none", d.Events.Grants, err)
	}
}

// Issue 10, item 9: secrets in a MongoDB URI were logged unmasked.
func TestMaskURISecrets(t *testing.T) {
	tests := []struct{ give, want string }{
		{"mongodb://u:secret@h:27017/db", "mongodb://u:xxxxx@h:27017/db"},
		{"mongodb://u:se/cr@t@h1:27017,h2:27017/db?replicaSet=rs0", "mongodb://u:xxxxx@h1:27017,h2:27017/db?replicaSet=rs0"},
		{"mongodb+srv://u:p%40ss@cluster.example.com/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok123",
			"mongodb+srv://u:xxxxx@cluster.example.com/?authMechanism=MONGODB-AWS&authMechanismProperties=xxxxx"},
		{"mongodb://h/?tls=true&tlsCertificateKeyFilePassword=pw&tlsCertificateKeyFile=/k.pem", "mongodb://h/?tls=true&tlsCertificateKeyFilePassword=xxxxx&tlsCertificateKeyFile=/k.pem"},
		{"mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"},
		{"mongodb://justuser@h/", "mongodb://justuser@h/"},
		{"not a uri", "(unparsable)"},
	}
	for _, tt := range tests {
		if got := MaskURI(tt.give); got != tt.want {
			t.Errorf("MaskURI(%q) = %q, want %q", tt.give, got, tt.want)
		}
		for _, secret := range []string{"secret", "se/cr@t", "p%40ss", "tok123", "=pw"} {
			if strings.Contains(tt.give, secret) && strings.Contains(MaskURI(tt.give), secret) {
				t.Errorf("MaskURI(%q) leaks %q", tt.give, secret)
			}
		}
	}
}

// Issue 10, item 9: in oidc mode the cookie key came from the client secret.
func TestOIDCNeedsItsOwnSessionSecretAndRedirect(t *testing.T) {
	env := []string{"MOONLIGHT_AUTH_MODE=oidc", "MOONLIGHT_AUTH_OIDC_ISSUER_URL=https://login.example.com", "MOONLIGHT_AUTH_OIDC_CLIENT_ID=moonlight",
		"MOONLIGHT_AUTH_OIDC_CLIENT_SECRET=" + strings.Repeat("c", 40)}
	_, err := Load("", env)
	if err == nil || !strings.Contains(err.Error(), "web.session_secret") || !strings.Contains(err.Error(), "redirect_url") {
		t.Fatalf("oidc without web.session_secret and redirect_url: %v", err)
	}
	env = append(env, "MOONLIGHT_WEB_SESSION_SECRET="+strings.Repeat("s", 40), "MOONLIGHT_PRIVACY_PSEUDONYM_KEY="+strings.Repeat("p", 40), "MOONLIGHT_AUTH_OIDC_REDIRECT_URL=https://m.example.com/signin/callback")
	if _, err := Load("", env); err != nil {
		t.Fatalf("complete oidc config: %v", err)
	}
}
