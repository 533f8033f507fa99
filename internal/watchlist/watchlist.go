// Package watchlist holds the counterparties whose research seminars and
// expert calls need approval (expert networks, brokerages, investment firms)
// and finds them in free text: expense merchants, descriptions, attendee lists,
// disclosure counterparties.
//
// # Matching rules
//
// Text and aliases are folded first (width, NFKC, case; see Fold), so
// "ＧＬＧ", "glg" and "GLG" are the same. Then:
//
//   - Latin aliases match whole words, never inside a word: "GLG" does not
//     match "GLGX". Legal forms (Co., Ltd., Inc., LLC, Group, ...) are ignored
//     on both sides. The words of a multi-word alias may appear in any order
//     but next to each other within one phrase ("Research Coleman" matches
//     "Coleman Research"; words separated by punctuation do not). Spacing does
//     not matter: "Alpha Sights", "AlphaSights" and "G.L.G." match.
//   - Latin words of 8 or more letters also match with small typos: an
//     optimal-string-alignment similarity (go-edlib) of at least
//     FuzzyThreshold ("Guidpoint", "Capvison"); shorter words must be exact,
//     because short names differ from ordinary words by one letter.
//   - Chinese aliases match as substrings of a run of Chinese characters
//     (spaces inside the run are ignored: "中信 证券"), because Chinese text
//     has no word breaks. Legal suffixes and bracketed city qualifiers
//     (有限公司, （上海）) are dropped from aliases, and do not get in the
//     way in text since the alias only has to be a substring.
//   - A Chinese alias of one or two characters (格理, 高瓴, 中金) is short: it
//     only matches when an organisational word follows (证券, 资本, 投资,
//     咨询, 研究, 公司, ...; a space in between is fine). So 中金公司 and
//     高瓴 资本 match, while 中金黄金 (a gold miner) does not, nor does a
//     person called 高毅 in an attendee list.
//   - Any alias followed directly (no space) by a venue word (酒店, 大酒店, 宾馆,
//     餐厅, 咖啡, hotel, cafe, restaurant, ...) names a different business: a
//     hotel or restaurant that happens to share the firm's name. 华泰大酒店,
//     海通宾馆 or "Guidepoint Cafe" are not matches even if 华泰 or Guidepoint
//     were aliases. For Latin names a venue word just before the alias
//     ("Cafe Guidepoint") counts too.
//   - Aliases are chosen to be distinctive: 中信 alone (a conglomerate with
//     banks and hotels) or 海通 alone (inside 上海通用) are not aliases;
//     中信证券 and 海通证券 are.
//
// When several aliases match, the best is the highest score, then the longest
// alias, then the earliest in the text, then the lowest id.
//
// A Watchlist is immutable once built, so it is safe for concurrent use;
// Holder swaps it atomically on reload.
package watchlist

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/hbollon/go-edlib"
)

// Counterparty types.
const (
	TypeExpertNetwork  = "expert_network"
	TypeBrokerage      = "brokerage"
	TypeInvestmentFirm = "investment_firm"
)

// FuzzyThreshold is the least similarity at which a long Latin word counts as
// an alias word with a typo (one edit in 8–9 letters, one or two in 10+... as
// 1 - edits/length).
const FuzzyThreshold = 0.88

// minFuzzyLen is the shortest word (in bytes) compared fuzzily.
const minFuzzyLen = 8

// shortHanRunes: Chinese aliases this long or shorter need an organisational
// word after them.
const shortHanRunes = 2

// Counterparty is one watchlisted firm.
type Counterparty struct {
	ID      string   `yaml:"id" json:"id"`
	Type    string   `yaml:"type" json:"type"`
	Name    string   `yaml:"name" json:"name"`
	NameZH  string   `yaml:"name_zh,omitempty" json:"name_zh,omitempty"`
	Aliases []string `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	// Category refines Type for people reading the registry (securities_firm,
	// investment_bank, fund_manager, pe_vc, roadshow_platform, ...); matching
	// does not use it.
	Category string `yaml:"category,omitempty" json:"category,omitempty"`
	// Source says where the entry comes from ("CSRC list of securities
	// companies", "company website"), and marks uncertain entries.
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
}

// Label is how explanations name the firm: "凯盛融英 (Capvision, expert
// network)" when matched by another name, "Capvision (expert network)" otherwise.
func (c Counterparty) Label(asMatched string) string {
	kind := strings.ReplaceAll(c.Type, "_", " ")
	if asMatched == "" || asMatched == c.Name || Key(asMatched) == Key(c.Name) {
		return fmt.Sprintf("%s (%s)", c.Name, kind)
	}
	return fmt.Sprintf("%s (%s, %s)", asMatched, c.Name, kind)
}

// Match is a watchlisted firm found in text.
type Match struct {
	Counterparty Counterparty
	// Alias is the name or alias, as written in the watchlist, that matched.
	Alias string
	// Score is 1 for an exact match, less for a match with typos (>= FuzzyThreshold).
	Score float64
}

type file struct {
	Counterparties []Counterparty `yaml:"counterparties"`
}

// Watchlist is a compiled, immutable list of counterparties.
type Watchlist struct {
	entries []Counterparty

	// han indexes Chinese aliases by their first two characters.
	han map[string][]hanAlias
	// single holds one-word Latin aliases and the joined form of multi-word
	// ones ("thirdbridge"), by that word.
	single map[string][]int
	// anchor indexes multi-word Latin aliases by their first sorted word.
	anchor map[string][]int
	latin  []latinAlias
	// words is every word of a Latin alias; long ones are also in fuzzy.
	words map[string]bool
	fuzzy []string
	// fuzzyFirst and fuzzyLast index fuzzy by first and last byte.
	fuzzyFirst, fuzzyLast map[byte][]string
	// byKey finds an entry by the Key of one of its names.
	byKey map[string]int
	// lead finds an entry by the first word of its multi-word Latin names,
	// for a name given on its own ("Nomura" in a disclosure); see Lookup.
	lead map[string]leadEntry
}

type leadEntry struct {
	entry, words int
	ambiguous    bool
}

// Words too common to stand for one firm when given alone.
var commonLeadWords = map[string]bool{
	"china": true, "chinese": true, "hong": true, "kong": true, "shanghai": true, "beijing": true, "shenzhen": true,
	"great": true, "first": true, "golden": true, "southern": true, "western": true, "eastern": true, "central": true,
	"capital": true, "securities": true, "research": true, "asset": true, "fund": true, "global": true, "international": true,
	"investment": true, "investments": true, "management": true, "partners": true, "bank": true, "financial": true,
	"harvest": true, "pacific": true, "orient": true, "industrial": true, "galaxy": true, "dalian": true, "third": true,
	"alpha": true, "venture": true, "ventures": true, "private": true, "credit": true, "deutsche": true, "stream": true,
}

type hanAlias struct {
	key   string // normalised alias
	short bool
	entry int
	alias string // as written
}

type latinAlias struct {
	words []string // normalised, sorted
	entry int
	alias string
	runes int
}

// Load reads a watchlist YAML file.
func Load(path string) (*Watchlist, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read watchlist: %w", err)
	}
	w, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("watchlist %s: %w", path, err)
	}
	return w, nil
}

// Parse reads a watchlist from YAML: a top-level `counterparties` list.
func Parse(b []byte) (*Watchlist, error) {
	var f file
	if err := yaml.UnmarshalWithOptions(b, &f, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("parse watchlist: %w", err)
	}
	return New(f.Counterparties)
}

// New validates and compiles entries. Names, Chinese names and aliases are
// all matched; each must be distinctive (see the package comment).
func New(entries []Counterparty) (*Watchlist, error) {
	w := &Watchlist{
		han:    map[string][]hanAlias{},
		single: map[string][]int{},
		anchor: map[string][]int{},
		words:  map[string]bool{},
		byKey:  map[string]int{},
		lead:   map[string]leadEntry{},
	}
	ids := map[string]bool{}
	owner := map[string]string{} // alias key -> entry id, to catch an alias given to two firms
	var errs []error
	for i, c := range entries {
		c.Aliases = append([]string(nil), c.Aliases...)
		w.entries = append(w.entries, c)
		where := fmt.Sprintf("counterparty %d (%s)", i+1, c.ID)
		switch {
		case c.ID == "":
			errs = append(errs, fmt.Errorf("%s: id is required", where))
		case ids[c.ID]:
			errs = append(errs, fmt.Errorf("%s: duplicate id", where))
		}
		ids[c.ID] = true
		if c.Type != TypeExpertNetwork && c.Type != TypeBrokerage && c.Type != TypeInvestmentFirm {
			errs = append(errs, fmt.Errorf("%s: type %q is not expert_network, brokerage or investment_firm", where, c.Type))
		}
		if c.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is required", where))
		}
		for _, a := range c.names() {
			k := Key(a)
			if prev, ok := owner[k]; ok && prev != c.ID {
				errs = append(errs, fmt.Errorf("%s: alias %q is also an alias of %s", where, a, prev))
				continue
			}
			owner[k] = c.ID
			if err := w.add(i, a); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w.addPinyin(owner)
	for word := range w.words {
		if len(word) >= minFuzzyLen {
			w.fuzzy = append(w.fuzzy, word)
		}
	}
	sort.Strings(w.fuzzy)
	w.fuzzyFirst, w.fuzzyLast = map[byte][]string{}, map[byte][]string{}
	for _, f := range w.fuzzy {
		w.fuzzyFirst[f[0]] = append(w.fuzzyFirst[f[0]], f)
		w.fuzzyLast[f[len(f)-1]] = append(w.fuzzyLast[f[len(f)-1]], f)
	}
	return w, nil
}

// addPinyin adds the pinyin spelling of every entry's Chinese names (see
// pinyinName), except spellings that are another entry's alias or that two
// entries share.
func (w *Watchlist) addPinyin(owner map[string]string) {
	derived := map[string]map[int]bool{}
	var order []string
	for i, c := range w.entries {
		for _, n := range c.names() {
			p := pinyinName(n)
			if p == "" {
				continue
			}
			k := Key(p)
			if derived[k] == nil {
				derived[k] = map[int]bool{}
				order = append(order, p)
			}
			derived[k][i] = true
		}
	}
	for _, p := range order {
		k := Key(p)
		if len(derived[k]) != 1 {
			continue
		}
		for i := range derived[k] {
			if prev, ok := owner[k]; ok && prev != w.entries[i].ID {
				continue
			}
			if _, ok := owner[k]; ok {
				continue // already an alias of the entry
			}
			_ = w.add(i, p) // all Latin words: cannot fail
		}
	}
}

func (c Counterparty) names() []string {
	out := []string{c.Name}
	if c.NameZH != "" {
		out = append(out, c.NameZH)
	}
	return append(out, c.Aliases...)
}

func (w *Watchlist) add(entry int, alias string) error {
	words := nameWords(alias)
	if len(words) == 0 {
		return fmt.Errorf("alias %q is empty once legal forms are removed", alias)
	}
	key := strings.Join(words, " ")
	sorted := append([]string(nil), words...)
	sort.Strings(sorted)
	w.byKey[strings.Join(sorted, " ")] = entry

	nHan := 0
	for _, wd := range words {
		if isHan(firstRune(wd)) {
			nHan++
		}
	}
	switch {
	case nHan == len(words):
		k := strings.Join(words, "")
		n := utf8.RuneCountInString(k)
		if n < 2 {
			return fmt.Errorf("alias %q: a one-character Chinese alias would match everywhere", alias)
		}
		ha := hanAlias{key: k, short: n <= shortHanRunes, entry: entry, alias: alias}
		w.han[prefix2(k)] = append(w.han[prefix2(k)], ha)
	case nHan == 0:
		la := latinAlias{words: sorted, entry: entry, alias: alias, runes: utf8.RuneCountInString(key)}
		w.latin = append(w.latin, la)
		idx := len(w.latin) - 1
		for _, wd := range words {
			w.words[wd] = true
		}
		if len(words) == 1 {
			w.single[words[0]] = append(w.single[words[0]], idx)
		} else {
			joined := strings.Join(words, "")
			w.single[joined] = append(w.single[joined], idx)
			w.anchor[sorted[0]] = append(w.anchor[sorted[0]], idx)
			w.addLead(words[0], entry, len(words))
		}
	default:
		return fmt.Errorf("alias %q mixes Chinese and Latin words; give them as separate aliases", alias)
	}
	return nil
}

// addLead records that the entry has a name of n words starting with word.
// Of several entries, the one with the shortest such name wins, then the
// one with the shorter canonical name; a tie after that makes the word
// ambiguous.
func (w *Watchlist) addLead(word string, entry, n int) {
	if len(word) < 5 || commonLeadWords[word] {
		return
	}
	cur, ok := w.lead[word]
	switch {
	case !ok || n < cur.words:
		w.lead[word] = leadEntry{entry: entry, words: n}
	case n == cur.words && entry != cur.entry:
		// Then the entry whose canonical name is shorter ("Nomura
		// Securities" over "Nomura Orient International Securities").
		a, b := len(nameWords(w.entries[entry].Name)), len(nameWords(w.entries[cur.entry].Name))
		switch {
		case a < b:
			w.lead[word] = leadEntry{entry: entry, words: n}
		case a == b:
			cur.ambiguous = true
			w.lead[word] = cur
		}
	}
}

// prefix2 returns the first two runes of s.
func prefix2(s string) string {
	_, a := utf8.DecodeRuneInString(s)
	_, b := utf8.DecodeRuneInString(s[a:])
	return s[:a+b]
}

// Entries returns a copy of the counterparties.
func (w *Watchlist) Entries() []Counterparty {
	if w == nil {
		return nil
	}
	out := make([]Counterparty, len(w.entries))
	for i, c := range w.entries {
		c.Aliases = append([]string(nil), c.Aliases...)
		out[i] = c
	}
	return out
}

// Len returns the number of counterparties.
func (w *Watchlist) Len() int {
	if w == nil {
		return 0
	}
	return len(w.entries)
}

// Get returns the counterparty with the id.
func (w *Watchlist) Get(id string) (Counterparty, bool) {
	if w == nil {
		return Counterparty{}, false
	}
	for _, c := range w.entries {
		if c.ID == id {
			return c, true
		}
	}
	return Counterparty{}, false
}

// Lookup resolves a name given on its own (a disclosure's counterparty, a
// seminar organiser): first as a whole name in any word order, then by
// looking for a watchlisted firm inside it.
func (w *Watchlist) Lookup(name string) (Match, bool) {
	if w == nil {
		return Match{}, false
	}
	if i, ok := w.byKey[Key(name)]; ok {
		return Match{Counterparty: w.entries[i], Alias: name, Score: 1}, true
	}
	if m, ok := w.Match(name); ok {
		return m, true
	}
	// A distinctive first word given alone ("Nomura", "Bernstein"): people
	// shorten names in a form field; free text never matches this way, as a
	// surname or ordinary word there would.
	if ws := nameWords(name); len(ws) == 1 {
		if l, ok := w.lead[ws[0]]; ok && !l.ambiguous {
			return Match{Counterparty: w.entries[l.entry], Alias: name, Score: 1}, true
		}
	}
	return Match{}, false
}

// Same reports whether two counterparty names mean the same firm: both
// resolve to the same watchlisted firm, or, when neither is watchlisted, their
// normalised forms are equal or nearly so (similarity >= FuzzyThreshold).
// A watchlisted and an unlisted name are never the same.
func (w *Watchlist) Same(a, b string) bool {
	ka, kb := Key(a), Key(b)
	if ka == "" || kb == "" {
		return false
	}
	ma, okA := w.Lookup(a)
	mb, okB := w.Lookup(b)
	if okA || okB {
		return okA && okB && ma.Counterparty.ID == mb.Counterparty.ID
	}
	if ka == kb {
		return true
	}
	ca, cb := strings.ReplaceAll(ka, " ", ""), strings.ReplaceAll(kb, " ", "")
	sim, err := edlib.StringsSimilarity(ca, cb, edlib.OSADamerauLevenshtein)
	return err == nil && float64(sim) >= FuzzyThreshold
}

// Holder holds the current watchlist and swaps it atomically, so a reload
// (admin API) never races with matching.
type Holder struct{ p atomic.Pointer[Watchlist] }

// NewHolder returns a holder of w.
func NewHolder(w *Watchlist) *Holder {
	h := &Holder{}
	h.p.Store(w)
	return h
}

// Get returns the current watchlist.
func (h *Holder) Get() *Watchlist { return h.p.Load() }

// Set replaces the current watchlist.
func (h *Holder) Set(w *Watchlist) { h.p.Store(w) }
