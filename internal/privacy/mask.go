package privacy

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Mask replaces the identifying strings of one person (and of the people
// around them) in free text: finding summaries, evidence lines, timeline
// rows, reasons. It works on whatever text it is given, so it stays a
// separate step from how that text was produced (the explanation may be
// rendered from structured fields at display time). The zero value masks
// nothing.
type Mask struct {
	// pairs are (secret, replacement), longest secret first so a full name
	// is replaced before a part of it.
	pairs []maskPair
	// then are applied after this mask's pairs (shared, not copied).
	then []Texter
}

// Texter masks a text (a Mask, a Dictionary).
type Texter interface {
	Text(s string) string
}

type maskPair struct {
	secret, with string
	ascii        bool // matched case-insensitively
	word         bool // matched as a whole word only (ids)
}

// minSecretRunes keeps very short strings (a one-letter name part, an
// empty email) from masking unrelated text.
const minSecretRunes = 2

// Add masks every occurrence of each secret with with. Empty and very short
// secrets are ignored. Latin-script secrets match case-insensitively.
func (m *Mask) Add(with string, secrets ...string) {
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if utf8.RuneCountInString(s) < minSecretRunes || s == with {
			continue
		}
		if slices.ContainsFunc(m.pairs, func(p maskPair) bool { return strings.EqualFold(p.secret, s) }) {
			continue
		}
		m.pairs = append(m.pairs, maskPair{secret: s, with: with, ascii: isASCII(s)})
	}
	sort.SliceStable(m.pairs, func(i, j int) bool { return len(m.pairs[i].secret) > len(m.pairs[j].secret) })
}

// AddPerson masks a person's name, employee id, email and login (the local
// part of the email) with with.
func (m *Mask) AddPerson(with, employeeID, name, email string) {
	secrets := []string{name, email}
	if at := strings.IndexByte(email, '@'); at > 0 {
		login := email[:at]
		secrets = append(secrets, login)
		// "zhang.wei" is also written "Zhang Wei" and "zhang wei".
		if strings.ContainsAny(login, "._") {
			secrets = append(secrets, strings.NewReplacer(".", " ", "_", " ").Replace(login))
		}
	}
	m.Add(with, secrets...)
	if employeeID != "" {
		m.addID(with, employeeID)
	}
}

// addID masks an employee id as a whole word only ("E1012", not the
// "E1012" inside "E10123").
func (m *Mask) addID(with, id string) {
	if utf8.RuneCountInString(id) < minSecretRunes {
		return
	}
	m.pairs = append(m.pairs, maskPair{secret: id, with: with, word: true})
	sort.SliceStable(m.pairs, func(i, j int) bool { return len(m.pairs[i].secret) > len(m.pairs[j].secret) })
}

// Include adds other's replacements after m's own (m's secrets win where
// both name one string).
func (m *Mask) Include(other Texter) {
	if other == nil {
		return
	}
	if d, ok := other.(*Dictionary); ok && d == nil {
		return
	}
	m.then = append(m.then, other)
}

// Empty reports whether the mask replaces nothing.
func (m *Mask) Empty() bool { return m == nil || (len(m.pairs) == 0 && len(m.then) == 0) }

// Text returns s with every secret replaced.
func (m *Mask) Text(s string) string {
	if m.Empty() || s == "" {
		return s
	}
	for _, p := range m.pairs {
		switch {
		case p.word:
			s = replaceWord(s, p.secret, p.with)
		case p.ascii:
			s = replaceFold(s, p.secret, p.with)
		default:
			s = strings.ReplaceAll(s, p.secret, p.with)
		}
	}
	for _, t := range m.then {
		s = t.Text(s)
	}
	return s
}

// Texts masks each of ss (a new slice).
func (m *Mask) Texts(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = m.Text(s)
	}
	return out
}

// replaceWord replaces id where it is not part of a longer word of ASCII
// letters and digits.
func replaceWord(s, id, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, id)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(id)
		if (i > 0 && isWordByte(s[i-1])) || (end < len(s) && isWordByte(s[end])) {
			b.WriteString(s[:end])
		} else {
			b.WriteString(s[:i])
			b.WriteString(with)
		}
		s = s[end:]
	}
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// replaceFold replaces old (ASCII) in s case-insensitively.
func replaceFold(s, old, with string) string {
	lower, lold := strings.ToLower(s), strings.ToLower(old)
	if !strings.Contains(lower, lold) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, lold)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(with)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
}

// Job families: a coarse grouping of job titles, shown instead of the title
// (a title such as "VP, EV Powertrain" names one person).
const (
	FamilyLeadership  = "leadership"
	FamilyManagement  = "management"
	FamilyEngineering = "engineering"
	FamilyDesign      = "design"
	FamilyFinance     = "finance"
	FamilyPeople      = "people"
	FamilyCommercial  = "commercial"
	FamilyCompliance  = "compliance"
	FamilyOther       = "other"
)

// jobFamilyWords are checked in order; the first word found in the title
// decides. HR data has no job-family field, so it is derived here.
var jobFamilyWords = []struct{ family, word string }{
	{FamilyLeadership, "chief"}, {FamilyLeadership, "vp"}, {FamilyLeadership, "vice president"},
	{FamilyLeadership, "director"}, {FamilyLeadership, "head of"},
	{FamilyCompliance, "compliance"}, {FamilyCompliance, "legal"}, {FamilyCompliance, "audit"},
	{FamilyManagement, "manager"}, {FamilyManagement, "lead"},
	{FamilyEngineering, "engineer"}, {FamilyEngineering, "developer"}, {FamilyEngineering, "scientist"}, {FamilyEngineering, "software"},
	{FamilyDesign, "design"},
	{FamilyFinance, "account"}, {FamilyFinance, "controller"}, {FamilyFinance, "financ"}, {FamilyFinance, "expense"},
	{FamilyPeople, "recruit"}, {FamilyPeople, "hr "}, {FamilyPeople, "people"},
	{FamilyCommercial, "marketing"}, {FamilyCommercial, "sales"}, {FamilyCommercial, "brand"}, {FamilyCommercial, "product"},
	{FamilyCommercial, "specialist"}, {FamilyCommercial, "advisor"},
}

// JobFamily is the coarse family of a job title ("" for no title).
func JobFamily(title string) string {
	t := " " + strings.ToLower(strings.TrimSpace(title)) + " "
	if strings.TrimSpace(t) == "" {
		return ""
	}
	for _, w := range jobFamilyWords {
		if strings.Contains(t, w.word) || strings.Contains(t, " "+strings.TrimSpace(w.word)+",") {
			return w.family
		}
	}
	return FamilyOther
}
