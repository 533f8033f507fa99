package privacy

import (
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/auth"
)

func TestSubjectIsStableKeyedAndWellFormed(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	a, err := NewPseudonymizer(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPseudonymizer(append([]byte(nil), key...)) // another replica, same key
	other, _ := NewPseudonymizer([]byte(strings.Repeat("x", 32)))
	seen := map[string]string{}
	for i := 0; i < 5000; i++ {
		id := "E" + strings.Repeat("0", 4) + string(rune('0'+i%10)) + string(rune('A'+i/10%26)) + string(rune('a'+i/260))
		s := a.Subject(id)
		if !IsSubject(s) {
			t.Fatalf("Subject(%q) = %q, not a pseudonym", id, s)
		}
		if b.Subject(id) != s {
			t.Fatalf("replicas disagree on %q", id)
		}
		if other.Subject(id) == s {
			t.Fatalf("another key gave the same pseudonym for %q", id)
		}
		if strings.Contains(s, id) {
			t.Fatalf("pseudonym %q contains the id", s)
		}
		if prev, ok := seen[s]; ok && prev != id {
			t.Fatalf("%q and %q share %q", prev, id, s)
		}
		seen[s] = id
	}
	if !IsSubject(strings.ToLower(a.Subject("E1001"))) {
		t.Error("a lower-case pseudonym should still be recognised")
	}
	if _, err := NewPseudonymizer([]byte("short")); err == nil {
		t.Error("a short key should be refused")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	bad := Config{Unmask: "anyone", UnmaskTTL: time.Second, EmployeeSeesFindings: "sometimes", PseudonymKey: auth.Secret("short")}
	err := bad.Validate()
	for _, want := range []string{"privacy.unmask", "privacy.unmask_ttl", "privacy.employee_sees_findings", "privacy.pseudonym_key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v should name %s", err, want)
		}
	}
}
