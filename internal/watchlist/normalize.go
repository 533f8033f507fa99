package watchlist

import (
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// folders pools the x/text transformer chain: a Caser (and so the chain) keeps
// state and must not be shared between goroutines.
var folders = sync.Pool{New: func() any {
	return transform.Chain(width.Fold, norm.NFKC, cases.Fold())
}}

// Fold maps s to the form all comparisons use: full-width and half-width
// forms folded to their canonical width (ＧＬＧ → glg, （ → (), compatibility
// characters decomposed (NFKC), case folded, and traditional Chinese
// characters (Taiwan and Hong Kong forms too) turned into simplified ones
// (華泰證券 → 华泰证券, 滙豐 → 汇丰). It keeps punctuation and spacing;
// Normalize goes further for names.
func Fold(s string) string {
	if isPlain(s) {
		// Same result as the x/text chain for ASCII and common CJK ideographs
		// (both stable under NFKC and width folding, ideographs caseless),
		// without its cost: Match runs on every expense event.
		return simplify(strings.ToLower(s))
	}
	t := folders.Get().(transform.Transformer)
	out, _, err := transform.String(t, s)
	folders.Put(t)
	if err != nil {
		return simplify(strings.ToLower(s))
	}
	return simplify(out)
}

// Traditional → simplified, character by character. The table is OpenCC's
// (longbridgeapp/opencc, its embedded t2s, hk2s and tw2s dictionaries, Apache-2.0)
// applied once to every CJK ideograph. Character level is enough for firm
// names and much cheaper than OpenCC's phrase segmentation on every expense:
// the phrase dictionaries only matter for words whose simplified form
// depends on context, which are not in firm names.
const (
	t2sFirst = 0x3400
	t2sLast  = 0x9FFF
)

var t2s = sync.OnceValue(func() []rune {
	table := make([]rune, t2sLast-t2sFirst+1)
	var convs []*opencc.OpenCC
	for _, name := range []string{"hk2s", "tw2s", "t2s"} {
		cc, err := opencc.New(name)
		if err != nil {
			panic("opencc " + name + ": " + err.Error()) // embedded data: cannot fail at run time
		}
		convs = append(convs, cc)
	}
	for r := rune(t2sFirst); r <= t2sLast; r++ {
		for _, cc := range convs {
			out, err := cc.Convert(string(r))
			if err != nil {
				continue
			}
			if c, n := utf8.DecodeRuneInString(out); n == len(out) && c != r && c != utf8.RuneError {
				table[r-t2sFirst] = c
				break
			}
		}
	}
	return table
})

// simplify turns traditional characters in s into simplified ones.
func simplify(s string) string {
	table := t2s()
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= t2sFirst && r <= t2sLast && table[r-t2sFirst] != 0 {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if r >= t2sFirst && r <= t2sLast && table[r-t2sFirst] != 0 {
			r = table[r-t2sFirst]
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isPlain reports whether s holds only ASCII and CJK Unified Ideographs
// (U+4E00..U+9FFF).
func isPlain(s string) bool {
	for _, r := range s {
		if r >= utf8.RuneSelf && (r < 0x4E00 || r > 0x9FFF) {
			return false
		}
	}
	return true
}

// Legal-form words dropped from Latin names and from the token stream of free
// text, so "Capvision Partners Co., Ltd." and "Capvision" compare on what
// distinguishes them. "group" and "holdings" are here because firms are named
// with and without them ("Gerson Lehrman Group", "Temasek Holdings").
var genericWords = map[string]bool{
	"co": true, "company": true, "ltd": true, "limited": true, "inc": true, "incorporated": true,
	"llc": true, "llp": true, "lp": true, "corp": true, "corporation": true, "plc": true,
	"gmbh": true, "ag": true, "sa": true, "group": true, "holdings": true, "holding": true, "the": true,
}

// Legal-form suffixes stripped from the end of Chinese names, longest first.
var hanSuffixes = []string{
	"集团股份有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "公司", "集团", "股份",
}

// Normalize returns the comparison form of a counterparty name: folded (see
// Fold), city or other short qualifiers in brackets removed ("(上海)",
// "（北京）", "(HK)"), punctuation turned into spaces, spaces between Chinese
// characters removed, legal forms removed (有限公司, 股份有限公司, Co., Ltd.,
// Inc., LLC, ...), words separated by one space in their original order.
//
//	Normalize("凯盛融英信息科技（上海）股份有限公司") == "凯盛融英信息科技"
//	Normalize("ＧＥＲＳＯＮ Lehrman Group, Inc.") == "gerson lehrman"
func Normalize(name string) string {
	return strings.Join(nameWords(name), " ")
}

// Key is Normalize with its words sorted, so word order does not matter:
// Key("Research Coleman") == Key("Coleman Research").
func Key(name string) string {
	w := nameWords(name)
	sort.Strings(w)
	return strings.Join(w, " ")
}

// nameWords returns the normalised words of a name: Latin words and Chinese runs.
func nameWords(name string) []string {
	s := dropQualifiers(Fold(name))
	var words []string
	var han strings.Builder
	flushHan := func() {
		if han.Len() > 0 {
			words = append(words, han.String())
			han.Reset()
		}
	}
	for _, t := range tokenize(s) {
		if t.han {
			han.WriteString(t.text)
			if t.hardAfter {
				flushHan()
			}
			continue
		}
		flushHan()
		if !genericWords[t.text] {
			words = append(words, t.text)
		}
	}
	flushHan()
	words = dropProcessor(words)
	// Legal forms: strip repeatedly from the end of each Chinese run
	// ("...集团股份有限公司"), and drop runs that were nothing but a legal form.
	out := words[:0]
	for _, w := range words {
		if isHan(firstRune(w)) {
			w = stripHanSuffixes(w)
		}
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

func stripHanSuffixes(w string) string {
	for changed := true; changed; {
		changed = false
		for _, suf := range hanSuffixes {
			if strings.HasSuffix(w, suf) {
				w = strings.TrimSuffix(w, suf)
				changed = true
			}
		}
	}
	return w
}

// dropQualifiers removes bracketed qualifiers that are not part of a firm's
// identity: a Chinese place of at most 4 characters ("(上海)", "(中国)") or one
// Latin word ("(Shanghai)", "(HK)"). Other bracketed text is kept as words.
func dropQualifiers(s string) string {
	if !strings.ContainsAny(s, "([【〔") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexAny(s, "([【〔")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		open, size := utf8.DecodeRuneInString(s[i:])
		closer := map[rune]string{'(': ")", '[': "]", '【': "】", '〔': "〕"}[open]
		j := strings.Index(s[i+size:], closer)
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		inner := s[i+size : i+size+j]
		b.WriteString(s[:i])
		if !isQualifier(inner) {
			b.WriteString(" " + inner + " ")
		}
		s = s[i+size+j+len(closer):]
	}
}

func isQualifier(inner string) bool {
	inner = strings.TrimSpace(inner)
	if inner == "" {
		return true
	}
	n, han, latin := 0, 0, 0
	for _, r := range inner {
		n++
		switch {
		case isHan(r):
			han++
		case unicode.IsLetter(r):
			latin++
		default:
			return false
		}
	}
	return (han == n && n <= 4) || (latin == n && n <= 12)
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// token is one word of folded text: a Latin/digit word, or a run of Chinese
// characters (no spaces inside; see scan for how spaces between Chinese
// characters are handled).
type token struct {
	text string
	han  bool
	// hardAfter: punctuation (not just a space) follows, ending the phrase.
	hardAfter bool
}

// tokenize splits folded text into words. Letters and digits form Latin words;
// Chinese characters form runs; spaces, '-', '_' and '·' are soft breaks;
// any other punctuation or symbol is a hard break.
func tokenize(s string) []token {
	toks := make([]token, 0, 16)
	start, han := -1, false
	end := func(i int, hard bool) {
		if start >= 0 {
			text := s[start:i]
			if !han {
				if full, ok := abbreviations[text]; ok {
					text = full
				}
			}
			toks = append(toks, token{text: text, han: han})
			start = -1
		}
		if hard && len(toks) > 0 {
			toks[len(toks)-1].hardAfter = true
		}
	}
	for i, r := range s {
		switch {
		case isHan(r):
			if start >= 0 && !han {
				end(i, false)
			}
			if start < 0 {
				start, han = i, true
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start >= 0 && han {
				end(i, false)
			}
			if start < 0 {
				start, han = i, false
			}
		case unicode.IsSpace(r) || r == '-' || r == '_' || r == '·' || r == '•':
			end(i, false)
		default:
			end(i, true)
		}
	}
	end(len(s), true)
	return toks
}

// Payment processors and acquirers put their own name before the merchant's
// on card statements and in expense exports: "SQ *GLG", "PAYPAL *ALPHASIGHTS",
// "支付宝-华泰证券", "财付通-凯盛融英". They name no counterparty, so a name
// that starts with one is compared without it (free-text matching finds the
// merchant after them anyway).
var latinProcessors = [][]string{
	{"sq"}, {"square"}, {"paypal"}, {"pp"}, {"stripe"}, {"alipay"}, {"wechat", "pay"}, {"wechatpay"},
	{"weixin"}, {"wxpay"}, {"tenpay"}, {"unionpay"}, {"union", "pay"}, {"cup"}, {"apple", "pay"},
	{"google", "pay"}, {"gpay"}, {"adyen"}, {"worldpay"}, {"sumup"}, {"izettle"}, {"zettle"}, {"tst"},
}

var hanProcessors = []string{
	"支付宝网络技术有限公司", "支付宝网络技术", "支付宝", "财付通支付科技有限公司", "财付通支付科技", "财付通", "微信支付", "微信", "银联商务", "中国银联", "银联",
	"云闪付", "拉卡拉", "快钱", "通联支付", "美团支付", "京东支付",
}

// dropProcessor removes a leading payment-processor name from a name's words
// (see latinProcessors), when something is left after it.
func dropProcessor(words []string) []string {
	for len(words) > 1 {
		dropped := false
		for _, p := range latinProcessors {
			if len(words) > len(p) && slicesEqual(words[:len(p)], p) {
				words, dropped = words[len(p):], true
				break
			}
		}
		if !dropped && isHan(firstRune(words[0])) {
			for _, p := range hanProcessors {
				if rest := strings.TrimPrefix(words[0], p); rest != words[0] {
					if rest == "" {
						words = words[1:]
					} else {
						words = append([]string{rest}, words[1:]...)
					}
					dropped = true
					break
				}
			}
		}
		if !dropped {
			break
		}
	}
	if len(words) == 1 && isHan(firstRune(words[0])) {
		for _, p := range hanProcessors {
			if rest := strings.TrimPrefix(words[0], p); rest != words[0] && rest != "" {
				return []string{rest}
			}
		}
	}
	return words
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Abbreviations card acquirers and ledgers use for words of firm names
// ("CITIC SEC", "HAITONG INTL", "GREENWOODS ASSET MGMT").
var abbreviations = map[string]string{
	"sec": "securities", "secs": "securities", "intl": "international", "mgmt": "management",
	"hldgs": "holdings", "hldg": "holding", "grp": "group",
}
