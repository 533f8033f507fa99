package web_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/web"
)

// provider is a small but real OpenID provider: discovery, an authorize
// endpoint that signs the user in at once, a token endpoint that checks the
// PKCE verifier and client secret, and a JWKS.
type provider struct {
	t   *testing.T
	srv *httptest.Server
	key *rsa.PrivateKey

	mu    sync.Mutex
	codes map[string]grant
	// badNonce makes the ID token carry another nonce.
	badNonce bool
	// exchanges counts token requests that passed the checks.
	exchanges int
}

type grant struct{ challenge, nonce, redirect string }

const (
	clientID     = "moonlight-web"
	clientSecret = "client-secret-of-the-test-provider-32+"
)

func newProvider(t *testing.T) *provider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{t: t, key: key, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/keys", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		writeJSON(w, map[string]any{"keys": []map[string]any{{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("client_id") != clientID || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" || !strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		code := base64.RawURLEncoding.EncodeToString([]byte(q.Get("state")))[:20]
		p.mu.Lock()
		p.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, sec, ok := r.BasicAuth()
		if ok { // RFC 6749 2.3.1: form-encoded before basic encoding
			id, _ = url.QueryUnescape(id)
			sec, _ = url.QueryUnescape(sec)
		} else {
			id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		p.mu.Lock()
		g, found := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code")) // codes are single-use
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case id != clientID || sec != clientSecret:
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		case !found || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != g.redirect:
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			http.Error(w, `{"error":"invalid_grant","error_description":"PKCE"}`, http.StatusBadRequest)
			return
		}
		nonce := g.nonce
		if p.badNonce {
			nonce = "another"
		}
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": p.srv.URL, "sub": "E3", "aud": clientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": nonce,
			"name": "郑雪", "realm_access": map[string]any{"roles": []string{"compliance", "offline_access"}},
		})
		tok.Header["kid"] = "k1"
		signed, err := tok.SignedString(key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p.mu.Lock()
		p.exchanges++
		p.mu.Unlock()
		writeJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": signed})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func oidcEnv(t *testing.T) (*env, *provider) {
	p := newProvider(t)
	e := newEnv(t, auth.ModeOIDC, func(d *web.Deps) {
		d.Config.Auth = auth.Config{Mode: auth.ModeOIDC, RolesClaim: "realm_access.roles", OIDC: auth.OIDCConfig{
			IssuerURL: p.srv.URL, ClientID: clientID, ClientSecret: auth.Secret(clientSecret), Scopes: []string{"openid", "profile"},
			RedirectURL: "https://moonlight.example/signin/callback"}}
	})
	return e, p
}

// startOIDC follows the sign-in to the provider and back, and returns the
// callback URL the provider sent the browser to.
func (b *browser) startOIDC(next string) string {
	b.t.Helper()
	p := b.get("/signin/oidc?next=" + url.QueryEscape(next))
	if p.status != http.StatusFound {
		b.t.Fatalf("start: %d %s", p.status, p.body)
	}
	authz, err := url.Parse(p.location())
	if err != nil {
		b.t.Fatal(err)
	}
	if authz.Query().Get("code_challenge") == "" {
		b.t.Fatalf("no PKCE challenge in %s", authz)
	}
	res, err := b.c.Get(authz.String())
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		b.t.Fatalf("provider answered %d", res.StatusCode)
	}
	return res.Header.Get("Location")
}

func (b *browser) getURL(raw string) page {
	b.t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.get(u.RequestURI())
}

func TestOIDCSignIn(t *testing.T) {
	e, idp := oidcEnv(t)
	defer func() {
		if idp.exchanges != 1 {
			t.Errorf("%d code exchanges passed the provider's checks, want 1", idp.exchanges)
		}
	}()
	b := e.browser(t)
	if p := b.get("/signin"); !strings.Contains(p.body, `href="/signin/oidc"`) || strings.Contains(p.body, `name="subject"`) {
		t.Fatal("oidc mode shows the dev sign-in or no single sign-on link")
	}
	callback := b.startOIDC("/cases")
	p := b.getURL(callback)
	if p.status != http.StatusSeeOther || p.location() != "/cases" {
		t.Fatalf("callback: %d %q, want 303 to /cases", p.status, p.location())
	}
	cases := b.get("/cases")
	if cases.status != http.StatusOK || !strings.Contains(cases.body, "郑雪 · E3") {
		t.Fatalf("after sign-in /cases: %d", cases.status)
	}
	if b.get("/audit").status != http.StatusForbidden {
		t.Error("a role the provider did not grant was given")
	}
	// The flow's cookie is single-use: replaying the callback fails.
	if p := b.getURL(callback); p.location() != "/signin?error=flow" {
		t.Errorf("replayed callback: %q, want the flow error", p.location())
	}
}

func TestOIDCRefusals(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(callback string, idp *provider) string
		want   string
	}{
		{"state mismatch", func(cb string, _ *provider) string {
			u, _ := url.Parse(cb)
			q := u.Query()
			q.Set("state", "forged")
			u.RawQuery = q.Encode()
			return u.String()
		}, "/signin?error=flow"},
		{"provider error", func(cb string, _ *provider) string {
			return strings.Split(cb, "?")[0] + "?error=access_denied"
		}, "/signin?error=flow"},
		{"unknown code", func(cb string, _ *provider) string {
			u, _ := url.Parse(cb)
			q := u.Query()
			q.Set("code", "not-a-code")
			u.RawQuery = q.Encode()
			return u.String()
		}, "/signin?error=token"},
		{"nonce mismatch", func(cb string, idp *provider) string {
			idp.badNonce = true
			return cb
		}, "/signin?error=token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, idp := oidcEnv(t)
			b := e.browser(t)
			cb := tt.tamper(b.startOIDC("/cases"), idp)
			if p := b.getURL(cb); p.location() != tt.want {
				t.Errorf("callback: %d %q, want %q", p.status, p.location(), tt.want)
			}
			if p := b.get("/cases"); p.status != http.StatusSeeOther {
				t.Errorf("signed in after a refused callback: %d", p.status)
			}
		})
	}
	// Without the flow's cookie (another browser) the callback is refused.
	e, _ := oidcEnv(t)
	cb := e.browser(t).startOIDC("/")
	if p := e.browser(t).getURL(cb); p.location() != "/signin?error=flow" {
		t.Errorf("callback in another browser: %q", p.location())
	}
}

// Issue 10, item 9: the callback URL was built from the request's Host
// header; now only from the configuration, which oidc mode requires.
func TestOIDCRedirectOnlyFromConfig(t *testing.T) {
	e, _ := oidcEnv(t)
	b := e.browser(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/signin/oidc", nil)
	req.Host = "evil.example"
	p := b.do(req)
	authz, err := url.Parse(p.location())
	if err != nil || p.status != http.StatusFound {
		t.Fatalf("start: %d %q", p.status, p.location())
	}
	if got := authz.Query().Get("redirect_uri"); got != "https://moonlight.example/signin/callback" {
		t.Errorf("redirect_uri = %q, want the configured one", got)
	}
	if _, err := web.New(web.Deps{Config: web.Config{SessionSecret: []byte(secret), Auth: auth.Config{Mode: auth.ModeOIDC}},
		Sessions: e.sess}); err == nil {
		t.Error("oidc mode without auth.oidc.redirect_url was accepted")
	}
}
