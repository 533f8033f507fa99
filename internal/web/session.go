package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Cookie names. The AEAD binds each sealed value to its cookie's name, so
// one cannot be replayed as the other.
const (
	sessionCookie = "moonlight_session"
	oidcCookie    = "moonlight_oidc"
	langCookie    = "moonlight_lang"
)

// maxCookieBytes bounds what is opened: a session is a few hundred bytes.
const maxCookieBytes = 3500

var errBadCookie = errors.New("cookie does not open")

// session is what the UI knows about a visitor during a request. The sealed
// cookie carries only the session token (SID), the CSRF token and the
// expiry; who is signed in, with which roles, is the server-side record the
// token names (shared by every replica in MongoDB), so signing out or a
// revocation ends the session everywhere. A visitor who has not signed in
// has a cookie-only session (no record): it carries the CSRF token of the
// sign-in form.
type session struct {
	// SID is the token of the server-side session record (session.Store):
	// the identity below comes from the record, never from the cookie.
	SID     string   `json:"sid,omitempty"`
	Subject string   `json:"sub,omitempty"`
	Name    string   `json:"name,omitempty"`
	Roles   []string `json:"roles,omitempty"`
	// CSRF is the synchronizer token every form posts back.
	CSRF    string `json:"csrf"`
	Expires int64  `json:"exp"` // unix seconds
}

func (s session) signedIn() bool { return s.Subject != "" }

func (s session) has(roles ...string) bool {
	return slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(s.Roles, r) })
}

// oidcState is the short-lived cookie of an authorization-code flow in progress.
type oidcState struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
	Expires  int64  `json:"exp"`
}

// sealer encrypts and authenticates cookie values with AES-256-GCM.
type sealer struct{ aead cipher.AEAD }

// newSealer derives the cookie key from the configured secret with HKDF, so
// the secret itself (which may also sign dev tokens) is never used as a key.
func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("web: session secret must be at least 32 bytes, got %d", len(secret))
	}
	key, err := hkdf.Key(sha256.New, secret, []byte("moonlight-web"), "session cookie v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive session key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", name, err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, plain, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (s *sealer) open(name, value string, v any) error {
	if len(value) > maxCookieBytes {
		return errBadCookie
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return errBadCookie
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return errBadCookie
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return errBadCookie
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sameToken compares CSRF tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// cookieJar reads and writes the UI's cookies with the configured attributes.
type cookieJar struct {
	sealer *sealer
	secure bool
	ttl    time.Duration
}

func (j cookieJar) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode,
	}
}

// load returns the visitor's session, or a fresh anonymous one when the
// cookie is missing, tampered with or expired: fresh says a cookie must be
// written, expired that a signed-in session ran out.
func (j cookieJar) load(r *http.Request, now time.Time) (s session, fresh, expired bool) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := j.sealer.open(sessionCookie, c.Value, &s); err == nil && s.CSRF != "" {
			if now.Unix() < s.Expires {
				return s, false, false
			}
			expired = s.signedIn() || s.SID != ""
		}
	}
	return j.anonymous(now), true, expired
}

// anonymous is a new session that has not signed in, with its own CSRF token.
func (j cookieJar) anonymous(now time.Time) session {
	return session{CSRF: randomToken(), Expires: now.Add(j.ttl).Unix()}
}

func (j cookieJar) save(w http.ResponseWriter, s session, now time.Time) error {
	v, err := j.sealer.seal(sessionCookie, s)
	if err != nil {
		return err
	}
	http.SetCookie(w, j.cookie(sessionCookie, v, int(time.Unix(s.Expires, 0).Sub(now).Seconds())))
	return nil
}

func (j cookieJar) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, j.cookie(name, "", -1))
}
