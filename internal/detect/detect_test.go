package detect

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
)

func TestRulesFileMatchesDefaults(t *testing.T) {
	cfg, err := LoadConfig(repoFile("configs", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Errorf("configs/rules.yaml differs from DefaultConfig():\n got  %+v\n want %+v", cfg, DefaultConfig())
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig invalid: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		give    string
		wantErr string
		check   func(Config) bool
	}{
		{give: "blackout_days: 30\n", check: func(c Config) bool { return c.BlackoutDays == 30 && c.CoolingOffDays == 180 }},
		{give: "weights: {expense-at-research-counterparty: 1, unapproved-engagement: 2, confidential-project-blackout: 3, frequency: 4}\n",
			check: func(c Config) bool { return c.Weights[RuleFrequency] == 4 && len(c.Weights) == 4 }},
		{give: "frequency: {count: 2, high_count: 4}\n", check: func(c Config) bool {
			return c.Frequency.Count == 2 && c.Frequency.Compensation["CNY"] == 20000
		}},
		{give: "blackout_days: -1\n", wantErr: "blackout_days must not be negative"},
		{give: "weights: {frequency: 4}\n", wantErr: "weights.expense-at-research-counterparty"},
		{give: "weights: {expense-at-research-counterparty: 1, unapproved-engagement: 2, confidential-project-blackout: 3, frequency: 4, nonsense: 1}\n", wantErr: "unknown rule"},
		{give: "frequency: {count: 5, high_count: 4}\n", wantErr: "count <= high_count"},
		{give: "severity: {medium: 80, high: 70}\n", wantErr: "medium <= high"},
		{give: "blackout_dayz: 3\n", wantErr: "blackout_dayz"},
		{give: "vocabulary: ['  ']\n", wantErr: "vocabulary[0] is empty"},
	}
	for _, tt := range tests {
		cfg, err := ParseConfig([]byte(tt.give))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseConfig(%q) error = %v, want %q", tt.give, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseConfig(%q): %v", tt.give, err)
		} else if !tt.check(cfg) {
			t.Errorf("ParseConfig(%q) = %+v", tt.give, cfg)
		}
	}
}

func TestSignalOf(t *testing.T) {
	wl := testWatchlist(t)
	type want struct {
		ok           bool
		counterparty string
		id           string
		typ          string
		field        string
		vocab        string
		date         string
	}
	tests := []struct {
		name string
		give event.Event
		want want
	}{
		{name: "merchant is a watchlisted firm with legal suffix",
			give: claim("c1", "2023-11-20", "凯盛融英信息科技（上海）股份有限公司", desc("EV专家访谈咨询费")),
			want: want{true, "Capvision", "capvision", "expert_network", "merchant", "专家访谈,咨询费", "2023-11-20"}},
		{name: "attendee names a brokerage",
			give: claim("c2", "2023-11-21", "Grand Hyatt Shanghai", desc("EV行业研讨会"), attendees("张伟", "中信证券 汽车研究组")),
			want: want{true, "CITIC Securities", "citic-securities", "brokerage", "attendees", "研讨会", "2023-11-21"}},
		{name: "description names an expert network",
			give: claim("c3", "2023-11-22", "滴滴出行", desc("Taxi to GLG office for expert call")),
			want: want{true, "GLG", "glg", "expert_network", "description", "expert call", "2023-11-22"}},
		{name: "unlisted brokerage with seminar words",
			give: claim("c4", "2023-11-23", "星河证券股份有限公司", desc("新能源车专家会议咨询费")),
			want: want{true, "星河证券股份有限公司", "", "brokerage", "merchant", "专家会议,咨询费", "2023-11-23"}},
		{name: "unlisted brokerage named in description",
			give: claim("c5", "2023-11-23", "Hilton", desc("星河证券EV路演")),
			want: want{true, "星河证券", "", "brokerage", "description", "路演", "2023-11-23"}},
		{name: "seminar words without a research firm",
			give: claim("c6", "2023-11-24", "Grand Hyatt", desc("EV research seminar, conference fee")),
			want: want{}},
		{name: "investor relations roadshow is not an investment firm",
			give: claim("c7", "2023-11-24", "Hilton", desc("投资者交流会 路演")),
			want: want{}},
		{name: "unlisted firm without seminar words",
			give: claim("c8", "2023-11-24", "星河证券股份有限公司", desc("taxi")),
			want: want{}},
		{name: "hotel resembling a brokerage",
			give: claim("c9", "2023-11-25", "华泰大酒店", desc("商务宴请")),
			want: want{}},
		{name: "restaurant resembling a brokerage with seminar words",
			give: claim("c10", "2023-11-25", "国泰餐厅", desc("客户交流会晚餐")),
			want: want{}},
		{name: "card payment uses the local date of occurred_at",
			give: card("t1", "2023-11-20T23:30:00+08:00", "CAPVISION PARTNERS"),
			want: want{true, "Capvision", "capvision", "expert_network", "merchant", "", "2023-11-20"}},
		{name: "card payment at a guest house",
			give: card("t2", "2023-11-20T10:00:00+08:00", "海通宾馆"),
			want: want{}},
		{name: "not an expense event",
			give: seminar("s1", "2023-11-20", "中信证券", "上海"),
			want: want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := SignalOf(DefaultConfig(), wl, tt.give)
			g := want{ok: ok}
			if ok {
				g = want{true, s.Counterparty, s.CounterpartyID, s.CounterpartyType, s.Field, strings.Join(s.Vocabulary, ","), s.Date.String()}
			}
			if g != tt.want {
				t.Errorf("SignalOf() = %+v, want %+v", g, tt.want)
			}
			if ok && (s.Ref != tt.give.Ref || s.EmployeeID != "E1" || s.Amount.Currency != "CNY") {
				t.Errorf("SignalOf() lost event data: %+v", s)
			}
		})
	}
}

func TestExpenseRule(t *testing.T) {
	wl := testWatchlist(t)
	taxi := claim("c1", "2023-11-20", "凯盛融英", desc("taxi"))
	seminarFee := claim("c2", "2023-11-20", "中信证券", desc("EV行业研讨会咨询费"), city("上海"))
	employed := emp(hire("2020-01-01"))
	left := emp(hire("2020-01-01"), terminate("2023-06-30"))
	tests := []struct {
		name     string
		emp      employee.Employee
		give     event.Event
		seminars []event.Event
		eng      []Engagement
		now      string
		want     []got
		summary  []string
	}{
		{name: "employed, taxi to an expert network", emp: employed, give: taxi,
			want:    []got{{RuleExpense, "medium", 30, "employed", "", ""}},
			summary: []string{"Expense claim at 凯盛融英 (Capvision, expert network) on 2023-11-20 for CNY 3,000.00; described as \"taxi\"; no approved disclosure covers it"}},
		{name: "employed, seminar fee", emp: employed, give: seminarFee,
			want:    []got{{RuleExpense, "high", 40, "employed", "", ""}},
			summary: []string{"it mentions 研讨会, 咨询费"}},
		{name: "on hire date", emp: emp(hire("2023-11-20")), give: taxi,
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "day before hire", emp: emp(hire("2023-11-21")), give: taxi},
		{name: "on termination date", emp: emp(hire("2020-01-01"), terminate("2023-11-20")), give: taxi,
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "day after termination", emp: emp(hire("2020-01-01"), terminate("2023-11-19")), give: seminarFee,
			want:    []got{{RuleExpense, "low", 5, "cooling_off", "", ""}},
			summary: []string{"1 day after employment ended on 2023-11-19 (within the 180-day cooling-off period)"}},
		{name: "last cooling-off day", emp: emp(hire("2020-01-01"), terminate("2023-05-24")), give: taxi,
			want: []got{{RuleExpense, "low", 5, "cooling_off", "", ""}}},
		{name: "first day after cooling-off", emp: emp(hire("2020-01-01"), terminate("2023-05-23")), give: taxi},
		{name: "between two employments, judged by the first", emp: emp(hire("2020-01-01"), terminate("2023-10-31"), hire("2024-01-01")),
			give: taxi, want: []got{{RuleExpense, "low", 5, "cooling_off", "", ""}}},
		{name: "rehired later: today's status does not matter", emp: emp(hire("2020-01-01"), terminate("2021-01-01"), hire("2023-11-01")),
			give: taxi, want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "no HR facts yet", emp: employee.Employee{ID: "E1"}, give: seminarFee,
			want:    []got{{RuleExpense, "medium", 40, "unknown", "", ""}},
			summary: []string{"no HR record of the employee's employment has arrived yet"}},
		{name: "termination without hire: employed until then", emp: emp(terminate("2023-12-31")), give: taxi,
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "seminar by the organiser corroborates", emp: employed, give: seminarFee,
			seminars: []event.Event{seminar("s1", "2023-11-21", "中信证券股份有限公司", "Shanghai")},
			want:     []got{{RuleExpense, "high", 50, "employed", "", ""}},
			summary:  []string{`matches the paid seminar "EV industry research seminar" reported by 中信证券股份有限公司 on 2023-11-21 in Shanghai`}},
		{name: "seminar two days off does not", emp: employed, give: seminarFee,
			seminars: []event.Event{seminar("s1", "2023-11-22", "中信证券", "上海")},
			want:     []got{{RuleExpense, "high", 40, "employed", "", ""}}},
		{name: "seminar in another city does not", emp: employed, give: seminarFee,
			seminars: []event.Event{seminar("s1", "2023-11-20", "中信证券", "北京")},
			want:     []got{{RuleExpense, "high", 40, "employed", "", ""}}},
		{name: "seminar by another firm does not", emp: employed, give: seminarFee,
			seminars: []event.Event{seminar("s1", "2023-11-20", "华泰证券", "上海")},
			want:     []got{{RuleExpense, "high", 40, "employed", "", ""}}},
		{name: "approved disclosure covers, named differently", emp: employed, give: taxi,
			eng:     []Engagement{engagement("D1", StatusApproved, "Capvision Partners", "2023-11-20")},
			want:    []got{{RuleExpense, "medium", 30, "employed", "D1", ""}},
			summary: []string{"covered by the approved declaration (paid seminar, 2023-11-20)"}},
		{name: "coverage slack: one day before start", emp: employed, give: taxi,
			eng:  []Engagement{engagement("D1", StatusApproved, "Capvision", "2023-11-21")},
			want: []got{{RuleExpense, "medium", 30, "employed", "D1", ""}}},
		{name: "coverage slack: two days before start is not covered", emp: employed, give: taxi,
			eng:  []Engagement{engagement("D1", StatusApproved, "Capvision", "2023-11-22")},
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "coverage slack: one day after end", emp: employed, give: taxi,
			eng: []Engagement{func() Engagement {
				e := engagement("D1", StatusApproved, "凯盛融英", "2023-11-10")
				e.End = d("2023-11-19")
				return e
			}()},
			want: []got{{RuleExpense, "medium", 30, "employed", "D1", ""}}},
		{name: "pending disclosure not yet due does not cover but is named", emp: employed, give: taxi, now: "2023-11-21",
			eng:     []Engagement{engagement("D1", StatusPending, "Capvision", "2023-11-21")},
			want:    []got{{RuleExpense, "medium", 30, "employed", "", ""}},
			summary: []string{"no approved disclosure covers it; the declaration (paid seminar, 2023-11-21) is pending"}},
		{name: "expense for a pending disclosure joins its finding", emp: employed, give: taxi,
			eng:     []Engagement{engagement("D1", StatusPending, "Capvision", "2023-11-20")},
			want:    []got{{RuleUnapproved, "medium", 30, "employed", "", ""}},
			summary: []string{"it is still pending approval; an expense on 2023-11-20 for CNY 3,000.00 confirms it"}},
		{name: "approved disclosure with another firm does not cover", emp: employed, give: taxi,
			eng:  []Engagement{engagement("D1", StatusApproved, "GLG", "2023-11-20")},
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "cooling-off finding can be covered too", emp: left, give: claim("c9", "2023-07-01", "GLG"),
			eng:  []Engagement{engagement("D1", StatusApproved, "Gerson Lehrman Group", "2023-07-01")},
			want: []got{{RuleExpense, "low", 5, "cooling_off", "D1", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := "2024-06-01"
			if tt.now != "" {
				now = tt.now
			}
			in := Input{EmployeeID: "E1", Employee: tt.emp, Signals: []Signal{signal(t, wl, tt.give)}, Engagements: tt.eng, Now: d(now)}
			for _, s := range tt.seminars {
				in.Seminars = append(in.Seminars, sem(t, wl, s))
			}
			fs := Evaluate(DefaultConfig(), wl, in)
			if g := reduce(fs); !reflect.DeepEqual(g, append([]got{}, tt.want...)) {
				t.Errorf("findings = %+v, want %+v", g, tt.want)
			}
			for i, want := range tt.summary {
				if len(fs) == 0 || !strings.Contains(fs[0].Summary, want) {
					t.Errorf("summary[%d]: want %q in %+v", i, want, fs)
				}
			}
			wantRefs := 1
			if strings.HasPrefix(tt.name, "seminar by the organiser") {
				wantRefs = 2 // the seminar report is evidence too
			}
			for _, f := range fs {
				if f.EmployeeID != "E1" || f.OccurredOn != tt.give.Data.(*event.ExpenseClaim).IncurredOn ||
					len(f.EventRefs) != wantRefs || f.EventRefs[0] != tt.give.Ref || f.Counterparty == "" || f.ID == "" {
					t.Errorf("finding evidence wrong: %+v", f)
				}
			}
		})
	}
}

func TestBlackout(t *testing.T) {
	wl := testWatchlist(t)
	// Launch 2024-03-31; with 90 blackout days the window is 2024-01-01 .. 2024-03-30.
	const launch = "2024-03-31"
	tests := []struct {
		name string
		emp  employee.Employee
		date string
		want []got
	}{
		{name: "first day of window", emp: emp(hire("2020-01-01"), assign("MS11", "confidential", launch, "2023-06-01")), date: "2024-01-01",
			want: []got{{RuleExpense, "high", 50, "employed", "", "MS11"}}},
		{name: "day before window", emp: emp(hire("2020-01-01"), assign("MS11", "confidential", launch, "2023-06-01")), date: "2023-12-31",
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "day before launch", emp: emp(hire("2020-01-01"), assign("MS11", "secret", launch, "2023-06-01")), date: "2024-03-30",
			want: []got{{RuleExpense, "high", 50, "employed", "", "MS11"}}},
		{name: "launch day is public", emp: emp(hire("2020-01-01"), assign("MS11", "confidential", launch, "2023-06-01")), date: launch,
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "internal project has no blackout", emp: emp(hire("2020-01-01"), assign("MS11", "internal", launch, "2023-06-01")), date: "2024-02-01",
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "no launch date, no window", emp: emp(hire("2020-01-01"), assign("MS11", "secret", "", "2023-06-01")), date: "2024-02-01",
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "assigned only after the date", emp: emp(hire("2020-01-01"), assign("MS11", "confidential", launch, "2024-02-02")), date: "2024-02-01",
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "unassigned before the date", emp: emp(hire("2020-01-01"), assign("MS11", "confidential", launch, "2023-06-01"), unassign("MS11", "2024-01-31")), date: "2024-02-01",
			want: []got{{RuleExpense, "medium", 30, "employed", "", ""}}},
		{name: "left the company: cooling-off stays low", emp: emp(hire("2020-01-01"), assign("MS11", "confidential", launch, "2023-06-01"), terminate("2024-01-15")), date: "2024-02-01",
			want: []got{{RuleExpense, "low", 5, "cooling_off", "", ""}}},
		{name: "project known, employment not: medium", emp: emp(assign("MS11", "confidential", launch, "2023-06-01")), date: "2024-02-01",
			want: []got{{RuleExpense, "medium", 50, "unknown", "", "MS11"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{EmployeeID: "E1", Employee: tt.emp, Now: d("2024-06-01"),
				Signals: []Signal{signal(t, wl, claim("c1", tt.date, "GLG", desc("taxi")))}}
			fs := Evaluate(DefaultConfig(), wl, in)
			if g := reduce(fs); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("findings = %+v, want %+v", g, tt.want)
			}
			if len(fs) == 1 && fs[0].Project != "" && !strings.Contains(fs[0].Summary, "while assigned to") {
				t.Errorf("summary does not explain the blackout: %s", fs[0].Summary)
			}
		})
	}
}

func TestBlackoutReviewOfApprovedEngagement(t *testing.T) {
	wl := testWatchlist(t)
	onProject := emp(hire("2020-01-01"), assign("MS11", "confidential", "2024-03-31", "2023-06-01"))
	multiDay := engagement("D1", StatusApproved, "Tegus", "2023-12-01")
	multiDay.End = d("2024-01-10")
	academic := engagement("D1", StatusApproved, "Tsinghua University", "2024-02-01")
	academic.CounterpartyType = "academic"
	tests := []struct {
		name string
		give Engagement
		emp  employee.Employee
		want []got
		on   string
	}{
		{name: "approved expert call in window", give: engagement("D1", StatusApproved, "GLG", "2024-02-01"), emp: onProject,
			want: []got{{RuleBlackout, "medium", 25, "employed", "", "MS11"}}, on: "2024-02-01"},
		{name: "approved, still in the future", give: engagement("D1", StatusApproved, "GLG", "2024-03-30"), emp: onProject,
			want: []got{{RuleBlackout, "medium", 25, "employed", "", "MS11"}}, on: "2024-03-30"},
		{name: "unlisted firm declared as brokerage", give: engagement("D1", StatusApproved, "星河证券", "2024-02-01"), emp: onProject,
			want: []got{{RuleBlackout, "medium", 25, "employed", "", "MS11"}}, on: "2024-02-01"},
		{name: "academic counterparty is not research", give: academic, emp: onProject},
		{name: "outside the window", give: engagement("D1", StatusApproved, "GLG", "2023-12-31"), emp: onProject},
		{name: "on launch day", give: engagement("D1", StatusApproved, "GLG", "2024-03-31"), emp: onProject},
		{name: "multi-day engagement overlapping the window start", give: multiDay, emp: onProject,
			want: []got{{RuleBlackout, "medium", 25, "employed", "", "MS11"}}, on: "2024-01-01"},
		{name: "not on the project", give: engagement("D1", StatusApproved, "GLG", "2024-02-01"), emp: emp(hire("2020-01-01"))},
		{name: "after leaving", give: engagement("D1", StatusApproved, "GLG", "2024-02-01"),
			emp: emp(hire("2020-01-01"), assign("MS11", "confidential", "2024-03-31", "2023-06-01"), terminate("2024-01-15"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(DefaultConfig(), wl, Input{EmployeeID: "E1", Employee: tt.emp, Engagements: []Engagement{tt.give}, Now: d("2024-03-01")})
			if g := reduce(fs); !reflect.DeepEqual(g, append([]got{}, tt.want...)) {
				t.Fatalf("findings = %+v, want %+v", g, tt.want)
			}
			if len(fs) == 1 {
				if fs[0].OccurredOn.String() != tt.on || !reflect.DeepEqual(fs[0].DisclosureIDs, []string{"D1"}) ||
					!strings.Contains(fs[0].Summary, "the approval should be reviewed again") {
					t.Errorf("finding = %+v", fs[0])
				}
			}
		})
	}
}

func TestUnapprovedEngagement(t *testing.T) {
	wl := testWatchlist(t)
	employed := emp(hire("2020-01-01"))
	tests := []struct {
		name    string
		emp     employee.Employee
		give    []Engagement
		want    []got
		summary string
	}{
		{name: "pending, date passed", emp: employed, give: []Engagement{engagement("D1", StatusPending, "中信证券", "2024-02-01")},
			want:    []got{{RuleUnapproved, "medium", 30, "employed", "", ""}},
			summary: "Declared paid seminar with 中信证券 (CITIC Securities, brokerage) on 2024-02-01 (paid CNY 3,000.00) has taken place, but it is still pending approval"},
		{name: "pending, today", emp: employed, give: []Engagement{engagement("D1", StatusPending, "中信证券", "2024-03-01")}},
		{name: "pending, future", emp: employed, give: []Engagement{engagement("D1", StatusPending, "中信证券", "2024-04-01")}},
		{name: "rejected, date passed", emp: employed, give: []Engagement{engagement("D1", StatusRejected, "GLG", "2024-02-01")},
			want: []got{{RuleUnapproved, "high", 30, "employed", "", ""}}, summary: "its disclosure was rejected"},
		{name: "withdrawn before its date", emp: employed,
			give: []Engagement{decided(engagement("D1", StatusWithdrawn, "GLG", "2024-02-01"), "2024-01-31T18:00:00+08:00")}},
		{name: "withdrawn on its date", emp: employed,
			give: []Engagement{decided(engagement("D1", StatusWithdrawn, "GLG", "2024-02-01"), "2024-02-01T18:00:00+08:00")},
			want: []got{{RuleUnapproved, "medium", 30, "employed", "", ""}}, summary: "withdrawn only on 2024-02-01"},
		{name: "approved", emp: employed, give: []Engagement{engagement("D1", StatusApproved, "GLG", "2024-02-01")}},
		{name: "non-research counterparty still needs approval", emp: employed,
			give: []Engagement{func() Engagement {
				e := engagement("D1", StatusPending, "财新传媒", "2024-02-01")
				e.CounterpartyType = "media"
				e.Kind = "media_interview"
				return e
			}()},
			want:    []got{{RuleUnapproved, "medium", 30, "employed", "", ""}},
			summary: "Declared media interview with 财新传媒 (media, not on the watchlist)"},
		{name: "rejected, then re-declared and approved", emp: employed,
			give: []Engagement{engagement("D1", StatusRejected, "GLG", "2024-02-01"), engagement("D2", StatusApproved, "Gerson Lehrman Group", "2024-02-01")},
			want: []got{{RuleUnapproved, "high", 30, "employed", "D2", ""}}, summary: "covered by the approved declaration (paid seminar, 2024-02-01)"},
		{name: "during cooling-off", emp: emp(hire("2020-01-01"), terminate("2024-01-15")),
			give: []Engagement{engagement("D1", StatusPending, "GLG", "2024-02-01")},
			want: []got{{RuleUnapproved, "low", 5, "cooling_off", "", ""}}},
		{name: "before hire", emp: emp(hire("2024-02-15")), give: []Engagement{engagement("D1", StatusRejected, "GLG", "2024-02-01")}},
		{name: "in blackout", emp: emp(hire("2020-01-01"), assign("MS11", "confidential", "2024-03-31", "2023-06-01")),
			give: []Engagement{engagement("D1", StatusPending, "GLG", "2024-02-01")},
			want: []got{{RuleUnapproved, "high", 50, "employed", "", "MS11"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(DefaultConfig(), wl, Input{EmployeeID: "E1", Employee: tt.emp, Engagements: tt.give, Now: d("2024-03-01")})
			if g := reduce(fs); !reflect.DeepEqual(g, append([]got{}, tt.want...)) {
				t.Fatalf("findings = %+v, want %+v", g, tt.want)
			}
			if tt.summary != "" && !strings.Contains(fs[0].Summary, tt.summary) {
				t.Errorf("summary %q does not contain %q", fs[0].Summary, tt.summary)
			}
		})
	}
}

func TestFrequency(t *testing.T) {
	wl := testWatchlist(t)
	employed := emp(hire("2020-01-01"))
	signals := func(dates ...string) []Signal {
		var out []Signal
		for i, dt := range dates {
			out = append(out, signal(t, wl, claim("c"+string(rune('a'+i)), dt, "GLG", desc("taxi"))))
		}
		return out
	}
	paid := func(id, status, start, amt string) Engagement {
		e := engagement(id, status, "Tegus", start)
		e.Compensation.Amount = amt
		return e
	}
	tests := []struct {
		name    string
		signals []Signal
		eng     []Engagement
		want    string // frequency severity, "" for none
		summary string
	}{
		{name: "two in a quarter", signals: signals("2023-10-01", "2023-11-01")},
		{name: "three in a quarter", signals: signals("2023-10-01", "2023-11-01", "2023-12-31"), want: "medium",
			summary: "3 research engagements or expenses in 2023Q4 (threshold 3, high at 6)"},
		{name: "three across quarters", signals: signals("2023-09-30", "2023-10-01", "2023-11-01")},
		{name: "six in a quarter", signals: signals("2023-10-01", "2023-10-02", "2023-10-03", "2023-10-04", "2023-10-05", "2023-10-06"), want: "high"},
		{name: "three, all covered", signals: signals("2023-10-01", "2023-11-01", "2023-12-01"),
			eng: []Engagement{func() Engagement {
				e := engagement("D1", StatusApproved, "GLG", "2023-10-01")
				e.End = d("2023-12-31")
				return e
			}()}},
		{name: "approved engagements count once an uncovered finding exists",
			signals: signals("2023-10-01"),
			eng:     []Engagement{paid("D1", StatusApproved, "2023-10-10", "100"), paid("D2", StatusApproved, "2023-10-20", "100")},
			want:    "medium"},
		{name: "an expense for a declared engagement is one activity",
			signals: signals("2023-10-01", "2023-11-01"),
			eng:     []Engagement{engagement("D1", StatusPending, "GLG", "2023-11-01")}},
		{name: "high declared compensation", eng: []Engagement{paid("D1", StatusPending, "2023-10-10", "25000.00")}, want: "medium",
			summary: "declared compensation of CNY 25,000.00 in 2023Q4 (threshold CNY 20,000.00)"},
		{name: "very high declared compensation", eng: []Engagement{paid("D1", StatusRejected, "2023-10-10", "30000"), paid("D2", StatusApproved, "2023-11-10", "30000")}, want: "high"},
		{name: "compensation in an unlisted currency is not summed", eng: []Engagement{func() Engagement {
			e := paid("D1", StatusPending, "2023-10-10", "9000000")
			e.Compensation.Currency = "JPY"
			return e
		}()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(DefaultConfig(), wl, Input{EmployeeID: "E1", Employee: employed, Signals: tt.signals, Engagements: tt.eng, Now: d("2024-03-01")})
			var freq []Finding
			for _, f := range fs {
				if f.Rule == RuleFrequency {
					freq = append(freq, f)
				}
			}
			switch {
			case tt.want == "" && len(freq) != 0:
				t.Fatalf("unexpected frequency finding %+v", freq)
			case tt.want != "" && (len(freq) != 1 || freq[0].Severity != tt.want || freq[0].Score != 15):
				t.Fatalf("frequency findings = %+v, want one at %s", freq, tt.want)
			}
			if tt.summary != "" && !strings.Contains(freq[0].Summary, tt.summary) {
				t.Errorf("summary %q does not contain %q", freq[0].Summary, tt.summary)
			}
		})
	}
}

func TestScore(t *testing.T) {
	cfg := DefaultConfig()
	f := func(sev string, score int, covered string) Finding {
		return Finding{Severity: sev, Score: score, CoveredBy: covered}
	}
	tests := []struct {
		name      string
		give      []Finding
		wantScore int
		wantSev   string
	}{
		{name: "nothing", give: nil, wantScore: 0, wantSev: ""},
		{name: "all covered", give: []Finding{f("high", 50, "D1"), f("medium", 30, "D2")}, wantScore: 0, wantSev: ""},
		{name: "one low", give: []Finding{f("low", 5, "")}, wantScore: 5, wantSev: "low"},
		{name: "lows add up to medium", give: []Finding{f("low", 5, ""), f("low", 5, ""), f("low", 5, ""), f("low", 5, ""), f("low", 5, ""), f("low", 5, "")},
			wantScore: 30, wantSev: "medium"},
		{name: "highest finding wins", give: []Finding{f("high", 40, ""), f("low", 5, "")}, wantScore: 45, wantSev: "high"},
		{name: "covered ones do not count", give: []Finding{f("high", 50, "D1"), f("medium", 30, "")}, wantScore: 30, wantSev: "medium"},
		{name: "mediums add up to high", give: []Finding{f("medium", 30, ""), f("medium", 30, ""), f("medium", 30, "")}, wantScore: 90, wantSev: "high"},
		{name: "capped", give: []Finding{f("high", 70, ""), f("high", 70, "")}, wantScore: 100, wantSev: "high"},
	}
	for _, tt := range tests {
		score, sev := Score(cfg, tt.give)
		if score != tt.wantScore || sev != tt.wantSev {
			t.Errorf("%s: Score() = %d, %q, want %d, %q", tt.name, score, sev, tt.wantScore, tt.wantSev)
		}
	}
}

func TestEvaluateIsDeterministic(t *testing.T) {
	wl := testWatchlist(t)
	in := Input{
		EmployeeID: "E1",
		Employee:   emp(hire("2020-01-01"), assign("MS11", "confidential", "2024-03-31", "2023-06-01")),
		Now:        d("2024-03-01"),
		Signals: []Signal{
			signal(t, wl, claim("c1", "2024-01-05", "中信证券", desc("EV行业研讨会咨询费"), city("上海"))),
			signal(t, wl, claim("c2", "2024-01-05", "GLG", desc("taxi"))),
			signal(t, wl, claim("c3", "2024-02-11", "Capvision")),
			signal(t, wl, card("t1", "2024-02-12T09:00:00+08:00", "高临咨询")),
		},
		Seminars: []Seminar{sem(t, wl, seminar("s1", "2024-01-05", "CITIC Securities", "Shanghai"))},
		Engagements: []Engagement{
			engagement("D1", StatusApproved, "Capvision", "2024-02-11"),
			engagement("D2", StatusPending, "Tegus", "2024-02-20"),
			engagement("D3", StatusApproved, "GLG", "2024-01-20"),
		},
	}
	want := Evaluate(DefaultConfig(), wl, in)
	if len(want) < 6 {
		t.Fatalf("expected a rich set of findings, got %+v", reduce(want))
	}
	ids := map[string]bool{}
	for _, f := range want {
		if ids[f.ID] {
			t.Errorf("duplicate finding id %s", f.ID)
		}
		ids[f.ID] = true
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		shuffled := in
		shuffled.Signals = append(append([]Signal{}, in.Signals...), in.Signals[rng.IntN(len(in.Signals))]) // a redelivery
		shuffled.Engagements = append([]Engagement{}, in.Engagements...)
		shuffled.Seminars = append(append([]Seminar{}, in.Seminars...), in.Seminars...)
		rng.Shuffle(len(shuffled.Signals), func(i, j int) { shuffled.Signals[i], shuffled.Signals[j] = shuffled.Signals[j], shuffled.Signals[i] })
		rng.Shuffle(len(shuffled.Engagements), func(i, j int) {
			shuffled.Engagements[i], shuffled.Engagements[j] = shuffled.Engagements[j], shuffled.Engagements[i]
		})
		if got := Evaluate(DefaultConfig(), wl, shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d differs:\n got  %+v\n want %+v", i, got, want)
		}
	}
}

func TestLaterApprovalCoversEarlierFinding(t *testing.T) {
	wl := testWatchlist(t)
	in := Input{EmployeeID: "E1", Employee: emp(hire("2020-01-01")), Now: d("2024-03-01"),
		Signals: []Signal{signal(t, wl, claim("c1", "2024-02-01", "凯盛融英", desc("专家访谈咨询费")))},
	}
	// The expense arrives first, with nothing declared.
	before := Evaluate(DefaultConfig(), wl, in)
	if score, sev := Score(DefaultConfig(), before); len(before) != 1 || score != 40 || sev != "high" {
		t.Fatalf("before disclosure: score %d severity %q, findings %+v", score, sev, reduce(before))
	}
	// Then the employee declares it, and it waits for a decision.
	in.Engagements = []Engagement{engagement("D1", StatusPending, "Capvision", "2024-02-01")}
	pending := Evaluate(DefaultConfig(), wl, in)
	if len(pending) != 1 || pending[0].Rule != RuleUnapproved || !reflect.DeepEqual(pending[0].EventRefs, []event.Ref{in.Signals[0].Ref}) {
		t.Fatalf("while pending: %+v", pending)
	}
	// Approval covers the earlier expense: same finding id, no score.
	in.Engagements = []Engagement{decided(engagement("D1", StatusApproved, "Capvision", "2024-02-01"), "2024-02-20T10:00:00+08:00")}
	after := Evaluate(DefaultConfig(), wl, in)
	if len(after) != 1 || after[0].CoveredBy != "D1" || after[0].ID != before[0].ID {
		t.Fatalf("after approval: %+v (before: %s)", after, before[0].ID)
	}
	if score, sev := Score(DefaultConfig(), after); score != 0 || sev != "" {
		t.Errorf("after approval: score %d severity %q, want 0 and none", score, sev)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	wl := testWatchlist(b)
	cfg := DefaultConfig()
	in := Input{EmployeeID: "E1", Employee: emp(hire("2020-01-01"), assign("MS11", "confidential", "2024-03-31", "2023-06-01")), Now: d("2024-06-01")}
	merchants := []string{"中信证券", "GLG", "凯盛融英信息科技（上海）股份有限公司", "Tegus", "华泰证券"}
	for i := 0; i < 20; i++ {
		day := d("2024-01-01").AddDays(i * 7)
		in.Signals = append(in.Signals, signal(b, wl, claim("c"+day.String(), day.String(), merchants[i%len(merchants)], desc("EV行业研讨会咨询费"))))
		if i%4 == 0 {
			in.Engagements = append(in.Engagements, engagement("D"+day.String(), []string{StatusApproved, StatusPending}[i%8/4], merchants[(i+1)%len(merchants)], day.String()))
		}
	}
	in.Seminars = []Seminar{sem(b, wl, seminar("s1", "2024-01-01", "中信证券", "上海"))}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(cfg, wl, in)
	}
}

func BenchmarkSignalOf(b *testing.B) {
	wl := testWatchlist(b)
	cfg := DefaultConfig()
	ev := claim("c1", "2024-01-05", "Grand Hyatt Shanghai", desc("EV行业研讨会咨询费"), attendees("张伟", "中信证券 汽车研究组"))
	b.ReportAllocs()
	for b.Loop() {
		SignalOf(cfg, wl, ev)
	}
}

// TestDecisionDayIsTheBusinessDay: a withdrawal decided at 20:31 UTC on 30
// June is 04:31 on 1 July in Asia/Shanghai, the engagement's own date, so the
// engagement took place and still needs approval there; in UTC it was
// withdrawn the day before and nothing is owed.
func TestDecisionDayIsTheBusinessDay(t *testing.T) {
	wl := testWatchlist(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	give := decided(engagement("D1", StatusWithdrawn, "GLG", "2024-07-01"), "2024-06-30T20:31:00Z")
	tests := []struct {
		name    string
		zone    *time.Location
		want    []got
		summary string
	}{
		{name: "Asia/Shanghai", zone: shanghai, want: []got{{RuleUnapproved, "medium", 30, "employed", "", ""}}, summary: "withdrawn only on 2024-07-01"},
		{name: "UTC", zone: time.UTC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(DefaultConfig(), wl, Input{EmployeeID: "E1", Employee: emp(hire("2020-01-01")), Engagements: []Engagement{give},
				Now: d("2024-07-10"), Zone: tt.zone})
			if g := reduce(fs); !reflect.DeepEqual(g, append([]got{}, tt.want...)) {
				t.Fatalf("findings = %+v, want %+v", g, tt.want)
			}
			if tt.summary != "" && !strings.Contains(fs[0].Summary, tt.summary) {
				t.Errorf("summary %q does not contain %q", fs[0].Summary, tt.summary)
			}
		})
	}
}
