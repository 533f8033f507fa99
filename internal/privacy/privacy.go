// Package privacy holds what keeps monitored people's identities from the
// people who review them: stable pseudonyms, and the privacy settings.
//
// A pseudonym is a keyed hash (HMAC-SHA256) of the employee id under a
// secret every replica shares, so the same person has the same pseudonym on
// every replica and after every restart, and nobody without the key can
// compute one from an id (a plain hash of a short id is a lookup table away).
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/auth"
)

// MinKeyBytes is the shortest pseudonym key accepted.
const MinKeyBytes = 32

// Unmask modes.
const (
	// UnmaskSelf lets a reviewer reveal a case's subject by giving a reason.
	UnmaskSelf = "self"
	// UnmaskTwoPerson makes the request wait for a privacy officer's approval.
	UnmaskTwoPerson = "two_person"
)

// Policies for whether an employee sees findings about them.
const (
	FindingsNever         = "never"
	FindingsAfterDecision = "after_decision"
	FindingsAlways        = "always"
)

// Config is the `privacy` section of the configuration.
type Config struct {
	// Pseudonymise shows reviewers and auditors pseudonyms instead of names
	// and employee ids (env MOONLIGHT_PRIVACY_PSEUDONYMISE).
	Pseudonymise bool `koanf:"pseudonymise"`
	// PseudonymKey is the HMAC key of pseudonyms, at least MinKeyBytes, the
	// same on every replica. Empty in dev mode: derived from the dev signing key.
	PseudonymKey auth.Secret `koanf:"pseudonym_key" secret:"true"`
	// Unmask is UnmaskSelf or UnmaskTwoPerson.
	Unmask string `koanf:"unmask"`
	// UnmaskTTL is how long an unmasking lasts.
	UnmaskTTL time.Duration `koanf:"unmask_ttl"`
	// EmployeeSeesFindings is FindingsNever, FindingsAfterDecision or FindingsAlways.
	EmployeeSeesFindings string `koanf:"employee_sees_findings"`
}

// DefaultConfig is pseudonymised review with self-service unmasking for 24 h.
func DefaultConfig() Config {
	return Config{Pseudonymise: true, Unmask: UnmaskSelf, UnmaskTTL: 24 * time.Hour, EmployeeSeesFindings: FindingsAfterDecision}
}

// Validate reports every problem at once; the key is checked by NewPseudonymizer.
func (c Config) Validate() error {
	var errs []error
	if c.Unmask != UnmaskSelf && c.Unmask != UnmaskTwoPerson {
		errs = append(errs, fmt.Errorf("privacy.unmask must be %s or %s, got %q", UnmaskSelf, UnmaskTwoPerson, c.Unmask))
	}
	if c.UnmaskTTL < time.Minute {
		errs = append(errs, errors.New("privacy.unmask_ttl must be at least 1m"))
	}
	switch c.EmployeeSeesFindings {
	case FindingsNever, FindingsAfterDecision, FindingsAlways:
	default:
		errs = append(errs, fmt.Errorf("privacy.employee_sees_findings must be never, after_decision or always, got %q", c.EmployeeSeesFindings))
	}
	if c.PseudonymKey != "" && len(c.PseudonymKey) < MinKeyBytes {
		errs = append(errs, fmt.Errorf("privacy.pseudonym_key must be at least %d bytes", MinKeyBytes))
	}
	return errors.Join(errs...)
}

// Pseudonymizer turns employee ids into pseudonyms. The zero value is not usable.
type Pseudonymizer struct {
	key []byte
}

// NewPseudonymizer keys pseudonyms with key (at least MinKeyBytes).
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("pseudonym key must be at least %d bytes, got %d", MinKeyBytes, len(key))
	}
	// Derive our own key so a secret shared with another use (the dev
	// signing key) never keys two things the same way.
	m := hmac.New(sha256.New, key)
	m.Write([]byte("moonlight pseudonym v1"))
	return &Pseudonymizer{key: m.Sum(nil)}, nil
}

// crockford is Crockford's base32 alphabet: no I, L, O, U, easy to read aloud.
var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// Subject is the pseudonym of employeeID, e.g. "P-7K3Q-M2XD": 40 bits, so
// two people share one with odds of about 1 in 200 among 100,000 employees.
func (p *Pseudonymizer) Subject(employeeID string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(employeeID))
	s := crockford.EncodeToString(m.Sum(nil)[:5])
	return "P-" + s[:4] + "-" + s[4:8]
}

var subjectPattern = regexp.MustCompile(`^P-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

// IsSubject reports whether s has the shape of a pseudonym (case-insensitive,
// so a reviewer can type it in lower case); NormalizeSubject upper-cases it.
func IsSubject(s string) bool { return subjectPattern.MatchString(NormalizeSubject(s)) }

// NormalizeSubject upper-cases and trims a typed pseudonym.
func NormalizeSubject(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
