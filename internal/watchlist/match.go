package watchlist

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hbollon/go-edlib"
)

// Words after a Chinese short alias that keep it a firm's name.
var orgWords = []string{
	"证券", "资本", "投资", "基金", "资管", "资产", "咨询", "研究", "公司", "有限", "股份",
	"集团", "控股", "管理", "国际", "香港", "合伙", "创投", "私募", "信息", "专家",
}

// Words that make a name a venue: a hotel or restaurant sharing a firm's name.
var hanVenues = []string{
	"酒店", "大酒店", "饭店", "大饭店", "宾馆", "旅馆", "旅店", "客栈", "餐厅", "餐馆", "饭馆",
	"酒家", "酒楼", "食府", "茶楼", "茶馆", "茶餐厅", "咖啡", "火锅", "烧烤", "面馆", "酒吧",
	"超市", "便利店", "美容", "洗浴", "足浴", "会所", "影城", "花园", "公寓", "小吃", "快餐",
	// Buildings and places named after a firm are property, not the firm.
	"大厦", "大楼", "广场", "公园", "商场", "停车场",
}

var latinVenues = map[string]bool{
	"hotel": true, "hotels": true, "inn": true, "hostel": true, "motel": true, "resort": true,
	"cafe": true, "café": true, "coffee": true, "restaurant": true, "bistro": true, "bar": true,
	"pub": true, "grill": true, "kitchen": true, "diner": true, "bakery": true, "spa": true,
	"salon": true, "ktv": true, "karaoke": true, "teahouse": true, "eatery": true, "canteen": true,
	// Regulators, exchanges and the financial press share words with firms
	// ("China Securities Regulatory Commission", "China Securities Journal").
	"regulatory": true, "commission": true, "association": true, "journal": true, "news": true,
	"times": true, "daily": true, "exchange": true, "herald": true,
}

// Match finds the best watchlisted counterparty named anywhere in text (see
// the package comment for the rules).
func (w *Watchlist) Match(text string) (Match, bool) {
	if w == nil || text == "" {
		return Match{}, false
	}
	var best candidate
	w.scan(text, func(c candidate) {
		if c.better(best) {
			best = c
		}
	})
	if best.score == 0 {
		return Match{}, false
	}
	return w.match(best), true
}

// MatchAll returns every distinct counterparty named in text, in order of
// first appearance.
func (w *Watchlist) MatchAll(text string) []Match {
	if w == nil || text == "" {
		return nil
	}
	byEntry := map[int]candidate{}
	w.scan(text, func(c candidate) {
		if b, ok := byEntry[c.entry]; !ok || c.better(b) {
			byEntry[c.entry] = c
		}
	})
	cs := make([]candidate, 0, len(byEntry))
	for _, c := range byEntry {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].pos != cs[j].pos {
			return cs[i].pos < cs[j].pos
		}
		return cs[i].entry < cs[j].entry
	})
	out := make([]Match, len(cs))
	for i, c := range cs {
		out[i] = w.match(c)
	}
	return out
}

func (w *Watchlist) match(c candidate) Match {
	return Match{Counterparty: w.entries[c.entry], Alias: c.alias, Score: c.score}
}

type candidate struct {
	entry int
	alias string
	score float64
	runes int // alias length, longer wins
	pos   int // token index, earlier wins
}

func (c candidate) better(o candidate) bool {
	switch {
	case o.score == 0:
		return true
	case c.score != o.score:
		return c.score > o.score
	case c.runes != o.runes:
		return c.runes > o.runes
	case c.pos != o.pos:
		return c.pos < o.pos
	}
	return c.entry < o.entry
}

// word is a Latin word of the text with its phrase and its alias form.
type word struct {
	text  string
	canon string  // the alias word it stands for, or text
	sim   float64 // similarity to canon
	seg   int     // phrase number: punctuation or Chinese text starts a new one
	pos   int     // token index in the text, for ordering matches
}

func (w *Watchlist) scan(text string, found func(candidate)) {
	toks := tokenize(Fold(text))
	words := make([]word, 0, len(toks))
	seg := 0
	var run strings.Builder
	var breaks []int // byte offsets in run where a space separated Chinese characters
	pos := 0
	flush := func() {
		if run.Len() > 0 {
			w.scanHan(run.String(), breaks, pos, found)
			run.Reset()
			breaks = breaks[:0]
		}
	}
	for i, t := range toks {
		if t.han {
			if run.Len() > 0 {
				breaks = append(breaks, run.Len())
			}
			run.WriteString(t.text)
			if t.hardAfter || i+1 == len(toks) || !toks[i+1].han {
				flush()
			}
			seg++
			pos++
			continue
		}
		if !genericWords[t.text] {
			wd := w.word(t.text, seg)
			wd.pos = pos
			words = append(words, wd)
		}
		if t.hardAfter {
			seg++
		}
		pos++
	}
	flush()
	w.scanLatin(words, found)
}

// word returns the alias word t stands for, exactly or with a typo.
func (w *Watchlist) word(t string, seg int) word {
	wd := word{text: t, canon: t, sim: 1, seg: seg}
	if w.words[t] || len(t) < minFuzzyLen {
		return wd
	}
	best := 0.0
	// Typos rarely touch both ends of a word, so only alias words sharing
	// the first or the last letter are compared: this skips most of the
	// edit-distance work for ordinary words.
	try := func(f string) {
		if d := len(f) - len(t); d > 2 || d < -2 {
			return
		}
		if float64(bagDistance(t, f)) > (1-FuzzyThreshold)*float64(max(len(t), len(f))) {
			return
		}
		s, err := edlib.StringsSimilarity(t, f, edlib.OSADamerauLevenshtein)
		sim := float64(s)
		if err == nil && sim >= FuzzyThreshold && (sim > best || (sim == best && f < wd.canon)) {
			best, wd.canon, wd.sim = sim, f, sim
		}
	}
	for _, f := range w.fuzzyFirst[t[0]] {
		try(f)
	}
	for _, f := range w.fuzzyLast[t[len(t)-1]] {
		if f[0] != t[0] { // compared above
			try(f)
		}
	}
	return wd
}

func (w *Watchlist) scanHan(run string, breaks []int, pos int, found func(candidate)) {
	for i := 0; i < len(run); {
		_, size := utf8.DecodeRuneInString(run[i:])
		if i+size >= len(run) {
			break
		}
		for _, a := range w.han[prefix2(run[i:])] {
			if !strings.HasPrefix(run[i:], a.key) {
				continue
			}
			end := i + len(a.key)
			rest := run[end:]
			atBreak := rest == "" || containsInt(breaks, end)
			if !atBreak && hasAnyPrefix(rest, hanVenues) {
				continue
			}
			if a.short && !hasAnyPrefix(rest, orgWords) {
				continue
			}
			found(candidate{entry: a.entry, alias: a.alias, score: 1, runes: utf8.RuneCountInString(a.key), pos: pos})
		}
		i += size
	}
}

func (w *Watchlist) scanLatin(words []word, found func(candidate)) {
	venueAround := func(s, e int) bool {
		return (s > 0 && words[s-1].seg == words[s].seg && latinVenues[words[s-1].text]) ||
			(e+1 < len(words) && words[e+1].seg == words[e].seg && latinVenues[words[e+1].text])
	}
	var joined []byte
	for i, wd := range words {
		// One-word aliases, and any alias written without spaces.
		for _, idx := range w.single[wd.canon] {
			if !venueAround(i, i) {
				a := w.latin[idx]
				found(candidate{entry: a.entry, alias: a.alias, score: wd.sim, runes: a.runes, pos: wd.pos})
			}
		}
		// Aliases split differently in the text: "Alpha Sights", "G.L.G."
		// (single letters may be joined across the dots that separate them).
		// An initial's dot does not end the phrase ("J.P. Morgan").
		joined = append(joined[:0], wd.text...)
		for j := i + 1; j < len(words) && j < i+maxJoin; j++ {
			if words[j].seg != words[j-1].seg && len(words[j-1].text) != 1 {
				break
			}
			joined = append(joined, words[j].text...)
			for _, idx := range w.single[string(joined)] {
				if !venueAround(i, j) {
					a := w.latin[idx]
					found(candidate{entry: a.entry, alias: a.alias, score: 1, runes: a.runes, pos: wd.pos})
				}
			}
		}
		// Multi-word aliases in any order: the alias words must fill a window
		// of adjacent words within one phrase.
		for _, idx := range w.anchor[wd.canon] {
			a := w.latin[idx]
			n := len(a.words)
			for s := max(0, i-n+1); s <= i && s+n <= len(words); s++ {
				if words[s].seg != words[s+n-1].seg {
					continue
				}
				if sim, ok := sameWords(words[s:s+n], a.words); ok && !venueAround(s, s+n-1) {
					found(candidate{entry: a.entry, alias: a.alias, score: sim, runes: a.runes, pos: words[s].pos})
				}
			}
		}
	}
}

// sameWords reports whether the canonical words of ws are the sorted want, as
// a multiset, and returns the lowest similarity among them.
func sameWords(ws []word, want []string) (float64, bool) {
	var buf [8]string
	if len(ws) > len(buf) {
		return 0, false
	}
	got := buf[:len(ws)]
	sim := 1.0
	for i, wd := range ws {
		got[i] = wd.canon
		sim = min(sim, wd.sim)
	}
	slices.Sort(got)
	for i := range got {
		if got[i] != want[i] {
			return 0, false
		}
	}
	return sim, true
}

// bagDistance is a cheap lower bound of the edit distance between ASCII
// words (letters that one has and the other lacks), used to skip the real
// computation; for non-ASCII words it returns 0 (no bound).
func bagDistance(a, b string) int {
	var counts [128]int
	for i := 0; i < len(a); i++ {
		if a[i] >= 128 {
			return 0
		}
		counts[a[i]]++
	}
	for i := 0; i < len(b); i++ {
		if b[i] >= 128 {
			return 0
		}
		counts[b[i]]--
	}
	pos, neg := 0, 0
	for _, c := range counts {
		if c > 0 {
			pos += c
		} else {
			neg -= c
		}
	}
	return max(pos, neg)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// maxJoin is how many adjacent words a text may split an alias into: "Alpha
// Sights", "G.L.G.", or pinyin syllable by syllable ("Zhong Xin Zheng Quan").
const maxJoin = 6
