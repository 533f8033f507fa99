package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Modes of authentication.
const (
	ModeDev  = "dev"
	ModeOIDC = "oidc"
)

// Defaults applied by Config.WithDefaults to unset fields.
const (
	DefaultRolesClaim = "roles"
	DefaultAudience   = "moonlight"
	DefaultDevIssuer  = "moonlight-dev"
	DefaultTokenTTL   = 8 * time.Hour
	DefaultClockSkew  = 30 * time.Second
	// DefaultMaxTokenLifetime caps exp - iat of accepted tokens (both modes):
	// a token that may live 100 years is a password that never changes.
	DefaultMaxTokenLifetime = 12 * time.Hour

	// MinSigningKeyBytes is the shortest dev signing key accepted: HS256 is
	// only as strong as its key, and RFC 7518 asks for at least 256 bits.
	MinSigningKeyBytes = 32
	// MaxClockSkew bounds ClockSkew: a larger value would let expired tokens
	// live on noticeably.
	MaxClockSkew = 5 * time.Minute
)

// Secret is a string that must not appear in logs or dumps of the config.
// Its String, GoString, text and slog forms are masked; convert with
// string(s) where the real value is needed.
type Secret string

const masked = "[redacted]"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// GoString masks %#v too.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText masks the value in JSON and YAML output.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Config configures authentication. Zero fields take the defaults listed in
// WithDefaults.
type Config struct {
	// Mode is ModeDev or ModeOIDC.
	Mode string `koanf:"mode" yaml:"mode"`
	// RolesClaim names the claim holding the caller's roles: a top-level
	// name or a dotted path such as "realm_access.roles".
	RolesClaim string `koanf:"roles_claim" yaml:"roles_claim"`
	// Audience is the expected "aud" in dev mode, and in oidc mode when
	// OIDC.Audience is empty.
	Audience string `koanf:"audience" yaml:"audience"`
	// ClockSkew is the tolerance when checking exp and nbf.
	ClockSkew time.Duration `koanf:"clock_skew" yaml:"clock_skew"`
	// MaxTokenLifetime refuses tokens whose exp - iat (or, without iat,
	// exp - now) is longer, in both modes.
	MaxTokenLifetime time.Duration `koanf:"max_token_lifetime" yaml:"max_token_lifetime"`

	Dev  DevConfig  `koanf:"dev" yaml:"dev"`
	OIDC OIDCConfig `koanf:"oidc" yaml:"oidc"`
}

// DevConfig configures the development identity provider.
type DevConfig struct {
	Issuer string `koanf:"issuer" yaml:"issuer"`
	// SigningKey is the HMAC secret, at least MinSigningKeyBytes long.
	SigningKey Secret        `koanf:"signing_key" yaml:"signing_key" secret:"true"`
	TokenTTL   time.Duration `koanf:"token_ttl" yaml:"token_ttl"`
}

// OIDCConfig configures verification against an OpenID Connect provider.
// ClientSecret, RedirectURL and Scopes are not needed to verify bearer
// tokens; they are here for a browser sign-in flow.
type OIDCConfig struct {
	// IssuerURL is the issuer; discovery is at IssuerURL/.well-known/openid-configuration.
	IssuerURL    string `koanf:"issuer_url" yaml:"issuer_url"`
	ClientID     string `koanf:"client_id" yaml:"client_id"`
	ClientSecret Secret `koanf:"client_secret" yaml:"client_secret" secret:"true"`
	// Audience is the expected "aud"; it defaults to Config.Audience, then ClientID.
	Audience    string   `koanf:"audience" yaml:"audience"`
	RedirectURL string   `koanf:"redirect_url" yaml:"redirect_url"`
	Scopes      []string `koanf:"scopes" yaml:"scopes"`
}

// DefaultConfig returns dev mode with defaults filled in, except the signing
// key, which must come from the deployment, and the audiences, left empty so
// that switching to oidc mode defaults the audience to the client id.
func DefaultConfig() Config {
	return Config{
		Mode:             ModeDev,
		RolesClaim:       DefaultRolesClaim,
		ClockSkew:        DefaultClockSkew,
		MaxTokenLifetime: DefaultMaxTokenLifetime,
		Dev:              DevConfig{Issuer: DefaultDevIssuer, TokenTTL: DefaultTokenTTL},
		OIDC:             OIDCConfig{Scopes: []string{"openid", "profile", "email"}},
	}
}

// WithDefaults returns c with unset fields defaulted. A zero ClockSkew means
// the default; there is no way to ask for none, on purpose.
func (c Config) WithDefaults() Config {
	if c.RolesClaim == "" {
		c.RolesClaim = DefaultRolesClaim
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.MaxTokenLifetime == 0 {
		c.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	if c.Dev.Issuer == "" {
		c.Dev.Issuer = DefaultDevIssuer
	}
	if c.Dev.TokenTTL == 0 {
		c.Dev.TokenTTL = DefaultTokenTTL
	}
	if c.Mode == ModeDev && c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.OIDC.Audience == "" {
		c.OIDC.Audience = c.Audience
	}
	if c.OIDC.Audience == "" {
		c.OIDC.Audience = c.OIDC.ClientID
	}
	return c
}

// Validate reports every problem at once, after applying defaults.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	for _, seg := range strings.Split(c.RolesClaim, ".") {
		if strings.TrimSpace(seg) == "" {
			check(false, "auth.roles_claim %q has an empty path segment", c.RolesClaim)
			break
		}
	}
	check(c.MaxTokenLifetime > 0, "auth.max_token_lifetime must be positive, got %s", c.MaxTokenLifetime)
	check(c.ClockSkew > 0 && c.ClockSkew <= MaxClockSkew,
		"auth.clock_skew must be between 0s and %s, got %s", MaxClockSkew, c.ClockSkew)

	switch c.Mode {
	case ModeDev:
		check(len(c.Dev.SigningKey) >= MinSigningKeyBytes,
			"auth.dev.signing_key must be at least %d bytes, got %d", MinSigningKeyBytes, len(c.Dev.SigningKey))
		check(c.Dev.TokenTTL > 0 && c.Dev.TokenTTL <= c.MaxTokenLifetime,
			"auth.dev.token_ttl must be positive and at most auth.max_token_lifetime (%s), got %s", c.MaxTokenLifetime, c.Dev.TokenTTL)
	case ModeOIDC:
		if err := checkIssuerURL(c.OIDC.IssuerURL); err != nil {
			errs = append(errs, err)
		}
		check(c.OIDC.Audience != "",
			"auth.oidc.audience (or auth.audience, or auth.oidc.client_id) must be set: tokens for other clients must be refused")
		if c.OIDC.RedirectURL != "" {
			u, err := url.Parse(c.OIDC.RedirectURL)
			check(err == nil && u.IsAbs(), "auth.oidc.redirect_url %q must be an absolute URL", c.OIDC.RedirectURL)
		}
	default:
		check(false, "auth.mode must be %q or %q, got %q", ModeDev, ModeOIDC, c.Mode)
	}
	return errors.Join(errs...)
}

// checkIssuerURL requires https, except on loopback hosts (a local IdP or a
// test server), because keys fetched over plain HTTP could be swapped.
func checkIssuerURL(raw string) error {
	if raw == "" {
		return errors.New("auth.oidc.issuer_url must be set in oidc mode")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("auth.oidc.issuer_url %q must be an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("auth.oidc.issuer_url %q must use https (plain http only for localhost)", raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
