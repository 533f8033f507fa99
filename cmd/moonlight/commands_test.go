package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/config"
)

// Issue 10, hole 1: MOONLIGHT_AUTH_DEV_SIGNING_KEY=<any key> moonlight serve
// started with a sign-in page that lets anyone become anyone.
func TestServeRefusesDevAuth(t *testing.T) {
	own := config.Default()
	own.Auth.Dev.SigningKey = auth.Secret(strings.Repeat("k", 40))
	own.HTTP.Addr = "0.0.0.0:8443"

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := serveAuth(own, false, log); err == nil || !strings.Contains(err.Error(), "--insecure-dev-auth") {
		t.Fatalf("dev mode with a key of one's own: err = %v, want a refusal naming --insecure-dev-auth", err)
	}
	if _, err := serveAuth(config.Default(), true, log); err == nil {
		t.Fatal("the public demo key was accepted with --insecure-dev-auth")
	}
	got, err := serveAuth(own, true, log)
	if err != nil {
		t.Fatal(err)
	}
	if got.HTTP.Addr != "127.0.0.1:8443" {
		t.Errorf("with --insecure-dev-auth addr = %s, want loopback 127.0.0.1:8443", got.HTTP.Addr)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "INSECURE") {
		t.Errorf("no warning logged: %s", logs.String())
	}
	oidc := own
	oidc.Auth.Mode = auth.ModeOIDC
	if got, err := serveAuth(oidc, false, log); err != nil || got.HTTP.Addr != "0.0.0.0:8443" {
		t.Errorf("oidc mode: %v, addr %s; want it untouched", err, got.HTTP.Addr)
	}
}

// The whole command refuses before connecting to anything.
func TestServeCommandRefusesDevAuth(t *testing.T) {
	var out, errs bytes.Buffer
	env := []string{"MOONLIGHT_AUTH_DEV_SIGNING_KEY=" + strings.Repeat("x", 40)}
	err := run(t.Context(), []string{"serve"}, env, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "auth.mode dev") {
		t.Fatalf("serve = %v, want a refusal of auth.mode dev", err)
	}
}
