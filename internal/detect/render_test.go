package detect

import (
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/explain"
)

// TestExplanationsRenderPerRule runs each rule on a small input and renders
// the first finding's explanation in English and Chinese with the shipped
// watchlist: what a reviewer reads, word for word. The Chinese text names
// the firm by its Chinese name, declarations by kind and date (never an
// id), and carries no English sentence.
func TestExplanationsRenderPerRule(t *testing.T) {
	wl := testWatchlist(t)
	employed := emp(hire("2020-01-01"))
	onMS11 := emp(hire("2020-01-01"), assign("MS11", "confidential", "2024-03-31", "2023-06-01"))
	withdrawn := decided(engagement("D9", StatusWithdrawn, "GLG", "2024-02-01"), "2024-02-05T10:00:00+08:00")
	freq := func() []Signal {
		var out []Signal
		for i, dt := range []string{"2023-10-01", "2023-11-01", "2023-12-31"} {
			out = append(out, signal(t, wl, claim("f"+string(rune('a'+i)), dt, "GLG", desc("taxi"))))
		}
		return out
	}()
	tests := []struct {
		name   string
		give   Input
		rule   string
		wantEN string
		wantZH string
	}{
		{name: "expense at a listed firm, named in Chinese", rule: RuleExpense,
			give:   Input{Employee: employed, Now: d("2023-12-01"), Signals: []Signal{signal(t, wl, claim("c1", "2023-11-20", "中信证券", desc("EV行业研讨会咨询费")))}},
			wantEN: `Expense claim at 中信证券 (CITIC Securities, brokerage) on 2023-11-20 for CNY 3,000.00; described as "EV行业研讨会咨询费"; it mentions 研讨会, 咨询费; no approved disclosure covers it`,
			wantZH: `2023-11-20 在中信证券（券商）报销 3,000.00 元；事由为“EV行业研讨会咨询费”；其中出现研讨会、咨询费；没有获批的申报覆盖此项。`},
		{name: "card payment, one day into cooling-off", rule: RuleExpense,
			give: Input{Employee: emp(hire("2020-01-01"), terminate("2023-11-19")), Now: d("2023-12-01"),
				Signals: []Signal{signal(t, wl, card("t1", "2023-11-20T12:00:00+08:00", "Huatai Securities"))}},
			wantEN: `Card payment to Huatai Securities (brokerage) on 2023-11-20 for CNY 88.50; 1 day after employment ended on 2023-11-19 (within the 180-day cooling-off period); no approved disclosure covers it`,
			wantZH: `2023-11-20 向华泰证券（券商）刷卡支付 88.50 元；在 2023-11-19 离职后第 1 天（在 180 天冷静期内）；没有获批的申报覆盖此项。`},
		{name: "attendee at a restaurant, covered by a declaration", rule: RuleExpense,
			give: Input{Employee: employed, Now: d("2023-12-01"),
				Signals:     []Signal{signal(t, wl, claim("c2", "2023-11-20", "外婆家餐厅", attendees("凯盛融英 王经理")))},
				Engagements: []Engagement{engagement("0f1c2d3e-aaaa-4bbb-8ccc-123456789abc", StatusApproved, "Capvision", "2023-11-20")}},
			wantEN: `Expense claim at "外婆家餐厅" on 2023-11-20 for CNY 3,000.00 with attendee 凯盛融英 (Capvision, expert network); covered by the approved declaration (paid seminar, 2023-11-20)`,
			wantZH: `2023-11-20 在“外婆家餐厅”报销 3,000.00 元，参与者包括凯盛融英（专家网络）；已由获批的申报（付费研讨会，2023-11-20）覆盖。`},
		{name: "declared, still pending, in a blackout", rule: RuleUnapproved,
			give:   Input{Employee: onMS11, Now: d("2024-03-01"), Engagements: []Engagement{engagement("D1", StatusPending, "中信证券", "2024-02-01")}},
			wantEN: `Declared paid seminar with 中信证券 (CITIC Securities, brokerage) on 2024-02-01 (paid CNY 3,000.00) has taken place, but it is still pending approval; while assigned to confidential project MS11 (Project MS11), 59 days before its launch on 2024-03-31`,
			wantZH: `已申报的付费研讨会（中信证券（券商），2024-02-01，有偿 3,000.00 元）已经发生，但仍在等待审批；当时参与保密项目 MS11（Project MS11），距 2024-03-31 发布还有 59 天。`},
		{name: "declared, rejected, unlisted firm", rule: RuleUnapproved,
			give:   Input{Employee: employed, Now: d("2024-03-01"), Engagements: []Engagement{engagement("D2", StatusRejected, "星河证券", "2024-02-01")}},
			wantEN: `Declared paid seminar with 星河证券 (brokerage, not on the watchlist) on 2024-02-01 (paid CNY 3,000.00) has taken place, but its disclosure was rejected`,
			wantZH: `已申报的付费研讨会（星河证券（券商，不在监控名单上），2024-02-01，有偿 3,000.00 元）已经发生，但该申报已被拒绝。`},
		{name: "declared, withdrawn after the day", rule: RuleUnapproved,
			give:   Input{Employee: employed, Now: d("2024-03-01"), Engagements: []Engagement{withdrawn}},
			wantEN: `Declared paid seminar with GLG (expert network) on 2024-02-01 (paid CNY 3,000.00) has taken place, but its disclosure was withdrawn only on 2024-02-05`,
			wantZH: `已申报的付费研讨会（格理（专家网络），2024-02-01，有偿 3,000.00 元）已经发生，但该申报直到 2024-02-05 才撤回。`},
		{name: "approved engagement in a blackout", rule: RuleBlackout,
			give:   Input{Employee: onMS11, Now: d("2024-03-01"), Engagements: []Engagement{engagement("D3", StatusApproved, "GLG", "2024-02-01")}},
			wantEN: `Approved paid seminar with GLG (expert network) on 2024-02-01 (paid CNY 3,000.00) falls in the 90-day pre-launch blackout of confidential project MS11 (Project MS11) (launch 2024-03-31); the approval should be reviewed again`,
			wantZH: `已批准的付费研讨会（格理（专家网络），2024-02-01，有偿 3,000.00 元）落在保密项目 MS11（Project MS11）发布前 90 天的静默期内（2024-03-31 发布），应重新审查该批准。`},
		{name: "frequency", rule: RuleFrequency,
			give:   Input{Employee: employed, Now: d("2024-01-10"), Signals: freq},
			wantEN: `Frequent outside research work: 3 research engagements or expenses in 2023Q4 (threshold 3, high at 6)`,
			wantZH: `频繁参与外部研究活动：2023 年第 4 季度共有 3 次研究类活动或报销（阈值 3，达到 6 为高）。`},
		{name: "seminar speaker", rule: RuleSpeaker,
			give: Input{Employee: emp(hireAs("2020-01-01", "EV Powertrain R&D", "Director of Motor Control", "Shanghai"), leave("L1", "2025-11-14", "2025-11-14")),
				Now: d("2025-12-01"), Seminars: []Seminar{speakerSeminar(t, "2025-11-14", "Shanghai", "某新能源车企研发总监")}},
			wantEN: `Seminar "EV industry research seminar" by 中信证券 (CITIC Securities, brokerage) on 2025-11-14 in Shanghai describes a speaker as "某新能源车企研发总监", which fits the employee: company "新能源车企"; function R&D (EV Powertrain R&D, Director of Motor Control); seniority director; corroborated by leave L1 recorded on 2025-11-14`,
			wantZH: `中信证券（券商）于 2025-11-14在Shanghai举办的研讨会“EV industry research seminar”将一位嘉宾描述为“某新能源车企研发总监”，与该员工相符：公司“新能源车企”；职能研发（EV Powertrain R&D，Director of Motor Control）；职级总监；休假记录 L1（2025-11-14）可以佐证。`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.give.EmployeeID = "E1"
			var f Finding
			for _, x := range Evaluate(DefaultConfig(), wl, tt.give) {
				if x.Rule == tt.rule {
					f = x
					break
				}
			}
			if f.ID == "" {
				t.Fatalf("no %s finding", tt.rule)
			}
			if !explain.Known(f.Explanation) {
				t.Fatalf("explanation has a code without a message: %v", f.Explanation.Codes())
			}
			if got := explain.Plain(explain.EN, f.Explanation, wl.Get); got != tt.wantEN {
				t.Errorf("English:\n got %s\nwant %s", got, tt.wantEN)
			}
			if got := explain.Plain(explain.ZH, f.Explanation, wl.Get); got != tt.wantZH {
				t.Errorf("Chinese:\n got %s\nwant %s", got, tt.wantZH)
			}
			if f.Summary != tt.wantEN {
				t.Errorf("Summary is not the English rendering: %s", f.Summary)
			}
			for _, id := range f.DisclosureIDs {
				if strings.Contains(f.Summary, id) {
					t.Errorf("the text shows the declaration id %s: %s", id, f.Summary)
				}
			}
		})
	}
}

// TestEveryClauseRenders: no clause any rule writes leaves a placeholder
// unfilled or a code unrendered, in either language.
func TestEveryClauseRenders(t *testing.T) {
	for code, m := range explain.Messages {
		if m.EN == "" || m.ZH == "" {
			t.Errorf("%s: needs both an English and a Chinese text", code)
		}
		if m.PluralOn != "" && !strings.Contains(m.EN, "{"+m.PluralOn+"}") {
			t.Errorf("%s: plural on {%s}, which the text does not use", code, m.PluralOn)
		}
	}
}
