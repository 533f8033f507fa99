package privacy

import (
	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// Ambiguous replaces a name two employees share.
const Ambiguous = "[employee]"

// Person is what the dictionary masks of one employee.
type Person struct {
	ID, Name, Email string
}

// Dictionary masks every employee's id, name and email in a text in one
// pass (Aho-Corasick, leftmost-longest, ASCII case-insensitive), each by
// that person's pseudonym: the names of colleagues among an expense's
// attendees, a manager's id in a reason. Latin-script entries match as
// whole words only, so "E1012" is not found inside "E10123".
type Dictionary struct {
	ac   ahocorasick.AhoCorasick
	with []string
	pat  []string
}

// NewDictionary builds the dictionary of people, each masked by
// subject(id). Entries shorter than two characters are left out.
func NewDictionary(people []Person, subject func(id string) string) *Dictionary {
	d := &Dictionary{}
	at := map[string]int{} // entry -> index in pat
	for _, p := range people {
		with := subject(p.ID)
		for _, s := range []string{p.ID, p.Name, p.Email} {
			if len([]rune(s)) < minSecretRunes {
				continue
			}
			if i, ok := at[s]; ok {
				if d.with[i] != with {
					d.with[i] = Ambiguous // two people of one name: neither pseudonym is right
				}
				continue
			}
			at[s] = len(d.pat)
			d.pat, d.with = append(d.pat, s), append(d.with, with)
		}
	}
	b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{AsciiCaseInsensitive: true, MatchKind: ahocorasick.LeftMostLongestMatch, DFA: false})
	d.ac = b.Build(d.pat)
	return d
}

// Text returns s with every entry replaced.
func (d *Dictionary) Text(s string) string {
	if d == nil || len(d.pat) == 0 || s == "" {
		return s
	}
	ms := d.ac.FindAll(s)
	if len(ms) == 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	last := 0
	for _, m := range ms {
		start, end := m.Start(), m.End()
		if start < last {
			continue
		}
		// Whole words for entries that begin or end with a letter or digit.
		if (start > 0 && isWordByte(s[start]) && isWordByte(s[start-1])) || (end < len(s) && isWordByte(s[end-1]) && isWordByte(s[end])) {
			continue
		}
		out = append(out, s[last:start]...)
		out = append(out, d.with[m.Pattern()]...)
		last = end
	}
	out = append(out, s[last:]...)
	return string(out)
}
