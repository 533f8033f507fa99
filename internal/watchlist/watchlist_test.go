package watchlist

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/transform"
)

func defaultList(t testing.TB) *Watchlist {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	w, err := Load(filepath.Join(filepath.Dir(file), "..", "..", "configs", "watchlist.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDefaultWatchlistHasRequiredFirms(t *testing.T) {
	w := defaultList(t)
	for _, name := range []string{
		"GLG", "Gerson Lehrman Group", "格理咨询", "AlphaSights", "Guidepoint", "Third Bridge", "高临咨询",
		"Capvision", "凯盛融英", "Tegus", "Coleman Research", "六度人和", "久谦咨询",
		"CITIC Securities", "中信证券", "CICC", "中金公司", "Huatai Securities", "华泰证券", "Guotai Junan", "国泰君安",
		"Haitong Securities", "海通证券", "China Merchants Securities", "招商证券", "GF Securities", "广发证券",
		"Tianfeng Securities", "天风证券", "Shenwan Hongyuan", "申万宏源", "高瓴资本", "景林资产", "淡马锡",
	} {
		if _, ok := w.Lookup(name); !ok {
			t.Errorf("Lookup(%q) found nothing", name)
		}
	}
	if w.Len() < 25 {
		t.Errorf("Len() = %d, want at least 25", w.Len())
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{give: "凯盛融英信息科技（上海）股份有限公司", want: "凯盛融英信息科技"},
		{give: "中信证券股份有限公司", want: "中信证券"},
		{give: "ＧＥＲＳＯＮ　Lehrman Group, Inc.", want: "gerson lehrman"},
		{give: "Capvision Partners Co., Ltd.", want: "capvision partners"},
		{give: "Third-Bridge (HK) LLC", want: "third bridge"},
		{give: "中信 证券", want: "中信证券"},
		{give: "高临咨询(北京)有限公司", want: "高临咨询"},
		{give: "Coleman Research Group (a Goldman portfolio firm)", want: "coleman research a goldman portfolio firm"},
		{give: "  ", want: ""},
		{give: "有限公司", want: ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.give); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
	if Key("Research Coleman") != Key("Coleman Research, Inc.") {
		t.Errorf("Key is not order independent: %q vs %q", Key("Research Coleman"), Key("Coleman Research, Inc."))
	}
}

func TestMatch(t *testing.T) {
	w := defaultList(t)
	tests := []struct {
		give string
		want string // counterparty id, "" for no match
	}{
		// Plain names, Chinese and English.
		{give: "GLG", want: "glg"},
		{give: "凯盛融英", want: "capvision"},
		{give: "中信证券", want: "citic-securities"},
		// Full width, case, spacing, punctuation.
		{give: "ＧＬＧ", want: "glg"},
		{give: "ｃａｐｖｉｓｉｏｎ", want: "capvision"},
		{give: "alphasights", want: "alphasights"},
		{give: "Alpha Sights", want: "alphasights"},
		{give: "G.L.G.", want: "glg"},
		{give: "ThirdBridge", want: "third-bridge"},
		{give: "中信 证券", want: "citic-securities"},
		{give: "中 信 证 券", want: "citic-securities"},
		// Legal suffixes and city qualifiers.
		{give: "凯盛融英信息科技（上海）股份有限公司", want: "capvision"},
		{give: "Gerson Lehrman Group, Inc.", want: "glg"},
		{give: "Guidepoint Global, LLC", want: "guidepoint"},
		{give: "Third Bridge Group Ltd.", want: "third-bridge"},
		{give: "中国国际金融股份有限公司", want: "cicc"},
		{give: "国泰君安证券股份有限公司（上海分公司）", want: "guotai-junan"},
		{give: "CHINA INTERNATIONAL CAPITAL CORP LTD", want: "cicc"},
		// Word order.
		{give: "Research Coleman", want: "coleman"},
		{give: "Securities CITIC", want: "citic-securities"},
		{give: "Lehrman Gerson", want: "glg"},
		// Typos in long words; none in short ones.
		{give: "Guidpoint expert call", want: "guidepoint"},
		{give: "Capvison Partners", want: "capvision"},
		{give: "AlphaSight", want: "alphasights"},
		{give: "GLC", want: ""},
		{give: "Tegos", want: ""},
		// Mixed Chinese and English free text.
		{give: "EV专家访谈咨询费 via Capvision", want: "capvision"},
		{give: "参加中信证券EV产业链研讨会", want: "citic-securities"},
		{give: "Taxi to 凯盛融英 office", want: "capvision"},
		{give: "dinner w/ GLG experts", want: "glg"},
		{give: "华泰证券研究所新能源车交流会", want: "huatai"},
		{give: "高瓴 资本 闭门会", want: "hillhouse"},
		{give: "中金公司汽车行业路演", want: "cicc"},
		{give: "中金研究部调研", want: "cicc"},
		// Unrelated businesses that share characters or a word with a firm.
		{give: "中信酒店", want: ""},
		{give: "华泰大酒店", want: ""},
		{give: "国泰餐厅", want: ""},
		{give: "海通宾馆", want: ""},
		{give: "上海通用汽车", want: ""},
		{give: "中金黄金股份有限公司", want: ""},
		{give: "景林花园酒店", want: ""},
		{give: "高毅", want: ""},
		{give: "格理", want: ""},
		{give: "Guidepoint Cafe", want: ""},
		{give: "Cafe Guidepoint", want: ""},
		{give: "GLG Hotel", want: ""},
		{give: "Coleman Outdoor Store", want: ""},
		{give: "Third Bridge Diner", want: ""},
		{give: "Third Street Bridge", want: ""},
		{give: "Coleman, Research", want: ""},
		{give: "招商银行", want: ""},
		{give: "国泰航空", want: ""},
		{give: "Starbucks 星巴克", want: ""},
		{give: "", want: ""},
		// A venue named after a firm is not the firm, but a firm next to a venue is.
		{give: "海通证券大酒店", want: ""},
		{give: "Grand Hyatt; meeting with Guidepoint", want: "guidepoint"},
		{give: "华泰证券 酒店会议室", want: "huatai"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			m, ok := w.Match(tt.give)
			got := ""
			if ok {
				got = m.Counterparty.ID
			}
			if got != tt.want {
				t.Errorf("Match(%q) = %q (alias %q, score %.2f), want %q", tt.give, got, m.Alias, m.Score, tt.want)
			}
			if ok && (m.Score < FuzzyThreshold || m.Score > 1) {
				t.Errorf("Match(%q) score %.3f out of range", tt.give, m.Score)
			}
		})
	}
}

func TestMatchScoreAndAlias(t *testing.T) {
	w := defaultList(t)
	m, ok := w.Match("凯盛融英信息科技（上海）股份有限公司")
	if !ok || m.Alias != "凯盛融英信息科技" || m.Score != 1 {
		t.Errorf("longest alias should win: got %+v", m)
	}
	m, ok = w.Match("Guidpoint")
	if !ok || m.Score >= 1 {
		t.Errorf("typo should score below 1: got %+v", m)
	}
	if got := m.Counterparty.Label("Guidepoint"); got != "Guidepoint (expert network)" {
		t.Errorf("Label = %q", got)
	}
	c, _ := w.Get("capvision")
	if got := c.Label("凯盛融英"); got != "凯盛融英 (Capvision, expert network)" {
		t.Errorf("Label = %q", got)
	}
}

func TestMatchAll(t *testing.T) {
	w := defaultList(t)
	got := w.MatchAll("中信证券 / GLG / 华泰大酒店 / 中信证券股份有限公司")
	var ids []string
	for _, m := range got {
		ids = append(ids, m.Counterparty.ID)
	}
	if strings.Join(ids, ",") != "citic-securities,glg" {
		t.Errorf("MatchAll ids = %v, want [citic-securities glg]", ids)
	}
}

func TestSame(t *testing.T) {
	w := defaultList(t)
	tests := []struct {
		a, b string
		want bool
	}{
		{a: "Capvision", b: "凯盛融英", want: true},
		{a: "Capvision Partners", b: "凯盛融英信息科技（上海）股份有限公司", want: true},
		{a: "CITIC Securities", b: "中信证券", want: true},
		{a: "Coleman Research", b: "Research Coleman Group", want: true},
		{a: "CITIC Securities", b: "China Securities", want: false},
		{a: "Capvision", b: "GLG", want: false},
		{a: "华泰证券", b: "华泰大酒店", want: false},
		// Unlisted firms: normalised equality or near equality.
		{a: "东方证券", b: "东方证券股份有限公司", want: true},
		{a: "Acme Research Partners", b: "ACME Research Partners, Inc.", want: true},
		{a: "Acme Reserch Partners", b: "Acme Research Partners", want: true},
		{a: "Acme Research", b: "Zenith Research", want: false},
		{a: "", b: "", want: false},
	}
	for _, tt := range tests {
		if got := w.Same(tt.a, tt.b); got != tt.want {
			t.Errorf("Same(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		give string
		want string // substring of the error
	}{
		{give: "counterparties:\n  - {id: a, type: bank, name: A}\n", want: "type \"bank\""},
		{give: "counterparties:\n  - {type: brokerage, name: A}\n", want: "id is required"},
		{give: "counterparties:\n  - {id: a, type: brokerage}\n", want: "name is required"},
		{give: "counterparties:\n  - {id: a, type: brokerage, name: A}\n  - {id: a, type: brokerage, name: B}\n", want: "duplicate id"},
		{give: "counterparties:\n  - {id: a, type: brokerage, name: Acme}\n  - {id: b, type: brokerage, name: B, aliases: [ACME Inc]}\n", want: "also an alias of a"},
		{give: "counterparties:\n  - {id: a, type: brokerage, name: A, aliases: [中]}\n", want: "one-character"},
		{give: "counterparties:\n  - {id: a, type: brokerage, name: A, aliases: [Acme 证券]}\n", want: "mixes Chinese and Latin"},
		{give: "counterparties:\n  - {id: a, type: brokerage, name: Ltd.}\n", want: "empty once legal forms"},
		{give: "counterparties:\n  - {id: a, type: brokerage, name: A, nmae_zh: x}\n", want: "nmae_zh"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.give))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want one containing %q", tt.give, err, tt.want)
		}
	}
}

func TestNilWatchlistMatchesNothing(t *testing.T) {
	var w *Watchlist
	if _, ok := w.Match("GLG"); ok {
		t.Error("nil watchlist matched")
	}
}

func TestConcurrentMatchAndReload(t *testing.T) {
	w := defaultList(t)
	h := NewHolder(w)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, ok := h.Get().Match("凯盛融英信息科技（上海）股份有限公司 ＥＶ专家访谈"); !ok {
					t.Error("concurrent Match failed")
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		h.Set(defaultList(t))
	}
	wg.Wait()
}

var benchTexts = []string{
	"凯盛融英信息科技（上海）股份有限公司",
	"Grand Hyatt Shanghai",
	"EV industry research seminar consulting fee, attendees: Zhang Wei, CITIC Securities auto team",
	"华泰大酒店 商务宴请",
	"ＧＬＧ expert call – EV battery supply chain",
}

func BenchmarkMatch(b *testing.B) {
	w := defaultList(b)
	for i, text := range benchTexts {
		b.Run(fmt.Sprint(i), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w.Match(text)
			}
		})
	}
}

// The fast path of Fold must agree with the x/text chain.
func TestFoldFastPathAgrees(t *testing.T) {
	for _, s := range []string{"GLG Expert Call", "中信证券EV研讨会", "Capvision 凯盛融英 2024", "ÀB", "ＧＬＧ（上海）"} {
		tr := folders.Get().(transform.Transformer)
		want, _, err := transform.String(tr, s)
		folders.Put(tr)
		if err != nil {
			t.Fatal(err)
		}
		if got := Fold(s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
}
