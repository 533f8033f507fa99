package watchlist

import (
	"strings"
	"testing"
)

// TestRegistryEntriesAreComplete: every entry says what it is and where it
// comes from, and the registry covers the universe the issue names.
func TestRegistryEntriesAreComplete(t *testing.T) {
	w := defaultList(t)
	byCat := map[string]int{}
	for _, c := range w.Entries() {
		if c.Source == "" {
			t.Errorf("%s: no source", c.ID)
		}
		if c.Category == "" {
			t.Errorf("%s: no category", c.ID)
		}
		byCat[c.Category]++
	}
	want := map[string]int{
		"securities_firm": 100, "investment_bank": 15, "hk_brokerage": 15, "fund_manager": 40,
		"private_fund": 20, "pe_vc": 25, "expert_network": 15, "roadshow_platform": 5,
	}
	for cat, n := range want {
		if byCat[cat] < n {
			t.Errorf("category %s: %d entries, want at least %d", cat, byCat[cat], n)
		}
	}
	t.Logf("%d entries by category: %v", w.Len(), byCat)
}

func TestNormalisationForEveryFeed(t *testing.T) {
	w := defaultList(t)
	tests := []struct {
		give string
		want string // counterparty id
	}{
		// Traditional characters (Taiwan and Hong Kong forms).
		{give: "華泰證券股份有限公司", want: "huatai"},
		{give: "國泰君安證券研討會", want: "guotai-junan"},
		{give: "凱盛融英諮詢", want: "capvision"},
		{give: "滙豐環球研究", want: "hsbc"},
		{give: "中國國際金融有限公司", want: "cicc"},
		{give: "申萬宏源證券", want: "shenwan-hongyuan"},
		{give: "摩根士丹利證券（中國）有限公司", want: "morgan-stanley-china"},
		// Full width, spacing and punctuation inside names.
		{give: "ＧＬＧ　专家访谈", want: "glg"},
		{give: "中信 证券", want: "citic-securities"},
		{give: "中信·证券", want: "citic-securities"},
		{give: "Alpha-Sights", want: "alphasights"},
		// Initials and abbreviations of acquirers and ledgers.
		{give: "J.P. Morgan", want: "jpmorgan"},
		{give: "CITIC SEC", want: "citic-securities"},
		{give: "HAITONG INTL", want: "haitong"},
		// Legal forms.
		{give: "Guidepoint Global, LLC", want: "guidepoint"},
		{give: "Third Bridge (Hong Kong) Limited", want: "third-bridge"},
		{give: "中信证券股份有限公司", want: "citic-securities"},
		{give: "高临咨询(北京)有限责任公司", want: "third-bridge"},
		// Payment processors and acquirers.
		{give: "SQ *GLG", want: "glg"},
		{give: "SQ*GLG INSIGHTS", want: "glg"},
		{give: "PAYPAL *ALPHASIGHTS", want: "alphasights"},
		{give: "STRIPE* TEGUS", want: "tegus"},
		{give: "支付宝-华泰证券", want: "huatai"},
		{give: "财付通-凯盛融英", want: "capvision"},
		{give: "微信支付-进门财经", want: "comein"},
		{give: "UNIONPAY-招商证券", want: "cms"},
		// Pinyin derived from the Chinese names.
		{give: "Zhongxin Zhengquan", want: "citic-securities"},
		{give: "HUATAI ZHENGQUAN", want: "huatai"},
		{give: "Zhong Xin Zheng Quan", want: "citic-securities"},
		{give: "GuotaiJunan Zhengquan", want: "guotai-junan"},
		{give: "Kaisheng Rongying", want: "capvision"},
		{give: "Changjiang Zhengquan", want: "changjiang"},
		{give: "Gaoyi Zichan", want: "gaoyi"},
		// Homophones (国信证券, 国新证券): the pinyin names neither.
		{give: "Guoxin Zhengquan", want: ""},
	}
	for _, tt := range tests {
		m, ok := w.Match(tt.give)
		got := ""
		if ok {
			got = m.Counterparty.ID
		}
		if got != tt.want {
			t.Errorf("Match(%q) = %q (alias %q), want %q", tt.give, got, m.Alias, tt.want)
		}
	}
}

func TestProcessorPrefixIsNotPartOfTheName(t *testing.T) {
	tests := []struct{ give, want string }{
		{give: "支付宝-华泰证券", want: "华泰证券"},
		{give: "支付宝（中国）网络技术有限公司-某某咨询", want: "某某咨询"},
		{give: "SQ *Acme Research", want: "acme research"},
		{give: "PAYPAL *ACME", want: "acme"},
		{give: "WeChat Pay - Acme", want: "acme"},
		{give: "PayPal", want: "paypal"}, // nothing after it: the processor is the merchant
	}
	for _, tt := range tests {
		if got := Normalize(tt.give); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
	w := defaultList(t)
	if !w.Same("SQ *Acme Research", "Acme Research LLC") {
		t.Error("Same ignores a processor prefix: want true")
	}
}

func TestFoldSimplifies(t *testing.T) {
	if got := Fold("華泰證券 ＧＬＧ"); got != "华泰证券 glg" {
		t.Errorf("Fold = %q", got)
	}
	if got := Fold("中信证券"); got != "中信证券" {
		t.Errorf("Fold changed simplified text: %q", got)
	}
	if !strings.Contains(Key("國泰君安證券有限公司"), "国泰君安证券") {
		t.Errorf("Key = %q", Key("國泰君安證券有限公司"))
	}
}

func TestLookupByDistinctiveFirstWord(t *testing.T) {
	w := defaultList(t)
	tests := []struct{ give, want string }{
		{give: "Nomura", want: "nomura"},
		{give: "Bernstein", want: "bernstein"},
		{give: "Macquarie", want: "macquarie"},
		{give: "China", want: ""},   // too common
		{give: "Capital", want: ""}, // too common
		{give: "Morgan", want: "morgan-stanley"},
	}
	for _, tt := range tests {
		m, ok := w.Lookup(tt.give)
		got := ""
		if ok {
			got = m.Counterparty.ID
		}
		if got != tt.want {
			t.Errorf("Lookup(%q) = %q, want %q", tt.give, got, tt.want)
		}
		if _, ok := w.Match(tt.give); ok && tt.give == "Nomura" {
			t.Errorf("Match(%q) matched: a bare first word must not match in free text", tt.give)
		}
	}
}
