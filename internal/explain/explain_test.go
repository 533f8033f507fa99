package explain

import (
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

func TestPhrase(t *testing.T) {
	citic := watchlist.Counterparty{ID: "citic-securities", Type: "brokerage", Name: "CITIC Securities", NameZH: "中信证券"}
	names := func(id string) (watchlist.Counterparty, bool) { return citic, id == citic.ID }
	tests := []struct {
		name           string
		give           Clause
		wantEN, wantZH string
	}{
		{name: "one finding: singular by the CLDR rules", give: C(CodeHistoryOpened).With("uncovered", Int(1)),
			wantEN: "1 finding without an approved disclosure", wantZH: "1 项发现没有获批的申报"},
		{name: "three findings: plural", give: C(CodeHistoryOpened).With("uncovered", Int(3)),
			wantEN: "3 findings without an approved disclosure", wantZH: "3 项发现没有获批的申报"},
		{name: "zero findings: plural in English", give: C(CodeHistoryUpdated).With("findings", Int(0)).With("uncovered", Int(0)),
			wantEN: "0 findings, 0 without an approved disclosure", wantZH: "共 0 项发现，其中 0 项没有获批的申报"},
		{name: "a listed firm by its name in each language, the English name not repeated to Chinese readers",
			give:   C(CodeExpenseMerchant).With("counterparty", Counterparty("citic-securities", "CITIC Securities", "brokerage", "CITIC Securities")).With("date", Date("2024-05-02")).With("amount", Money(moneyOf("12345.5", "CNY"))),
			wantEN: "Expense claim at CITIC Securities (brokerage) on 2024-05-02 for CNY 12,345.50", wantZH: "2024-05-02 在中信证券（券商）报销 12,345.50 元"},
		{name: "a declaration by kind and dates",
			give:   C(CodeCovered).With("disclosure", Disclosure("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "expert_call", "2024-05-02", "2024-05-03", "approved")),
			wantEN: "covered by the approved declaration (expert call, 2024-05-02 to 2024-05-03)", wantZH: "已由获批的申报（专家访谈，2024-05-02 至 2024-05-03）覆盖"},
		{name: "a quarter", give: C(CodeFrequencyCompensation).With("amount", Money(moneyOf("25000", "USD"))).With("quarter", Quarter("2024Q2")).With("threshold", Money(moneyOf("20000", "USD"))),
			wantEN: "declared compensation of USD 25,000.00 in 2024Q2 (threshold USD 20,000.00)", wantZH: "2024 年第 2 季度申报的报酬合计 USD 25,000.00（阈值 USD 20,000.00）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Phrase(EN, tt.give, names).String(); got != tt.wantEN {
				t.Errorf("English %q, want %q", got, tt.wantEN)
			}
			if got := Phrase(ZH, tt.give, names).String(); got != tt.wantZH {
				t.Errorf("Chinese %q, want %q", got, tt.wantZH)
			}
		})
	}
}

// TestReason reads back the reasons the services write, so the audit log
// and older history lines read in both languages; a person's words do not
// match.
func TestReason(t *testing.T) {
	tests := []struct {
		give, wantEN, wantZH string
	}{
		{"1 finding(s) without an approved disclosure", "1 finding without an approved disclosure", "1 项发现没有获批的申报"},
		{"4 finding(s), 2 without an approved disclosure", "4 findings, 2 without an approved disclosure", "共 4 项发现，其中 2 项没有获批的申报"},
		{"every finding is covered by an approved disclosure", "every finding is covered by an approved disclosure", "所有发现均已由获批的申报覆盖"},
		{"case review", "case review", "审查案件"},
		{"needs compliance or auditor", "needs the compliance or auditor role", "需要合规或审计角色"},
		{"needs compliance, auditor or manager", "needs the compliance, auditor or manager role", "需要合规、审计或经理角色"},
		{"rule set version 7", "rule set version 7", "规则集第 7 版"},
		{"nobody acts on a case about themselves", "nobody acts on a case about themselves", "任何人都不得处理与自己有关的案件"},
	}
	for _, tt := range tests {
		c, ok := Reason(tt.give)
		if !ok {
			t.Errorf("%q not recognised", tt.give)
			continue
		}
		if got := Phrase(EN, c, nil).String(); got != tt.wantEN {
			t.Errorf("%q in English: %q, want %q", tt.give, got, tt.wantEN)
		}
		if got := Phrase(ZH, c, nil).String(); got != tt.wantZH {
			t.Errorf("%q in Chinese: %q, want %q", tt.give, got, tt.wantZH)
		}
	}
	if _, ok := Reason("Declared late; no MS11 involvement"); ok {
		t.Error("a reviewer's own words were taken for a service reason")
	}
}

func TestRenderMarksData(t *testing.T) {
	x := Explanation{C(CodeExpenseDescription).With("text", Text(`<b>taxi</b> "x"`)),
		C(CodeCovered).With("disclosure", Disclosure("D-1", "paid_seminar", "2024-01-02", "", "approved"))}
	got := string(Render(ZH, x, nil).HTML())
	want := `事由为“<span translate="no">&lt;b&gt;taxi&lt;/b&gt; &#34;x&#34;</span>”；已由获批的<a href="/declarations/D-1">申报（付费研讨会，2024-01-02）</a>覆盖。`
	if got != want {
		t.Errorf("HTML\n got %s\nwant %s", got, want)
	}
	if Known(Explanation{C("no.such.code")}) || Known(nil) {
		t.Error("Known accepts an explanation it cannot render")
	}
}

func moneyOf(a, c string) event.Money { return event.Money{Amount: a, Currency: c} }

func TestMapTextMasksDataOnly(t *testing.T) {
	x := Explanation{C(CodeExpenseAttendee).With("merchant", Text("张伟的餐厅")).With("date", Date("2024-01-02")).
		With("amount", Money(moneyOf("10", "CNY"))).With("counterparty", Counterparty("citic-securities", "CITIC Securities", "brokerage", "张伟 中信证券"))}
	masked := x.MapText(func(s string) string { return strings.ReplaceAll(s, "张伟", "P-7K3Q") })
	got := Plain(EN, masked, nil)
	want := `Expense claim at "P-7K3Q的餐厅" on 2024-01-02 for CNY 10.00 with attendee P-7K3Q 中信证券 (CITIC Securities, brokerage)`
	if got != want {
		t.Errorf("masked\n got %s\nwant %s", got, want)
	}
	if x[0].Params["merchant"].Value != "张伟的餐厅" {
		t.Error("MapText changed its input")
	}
}
