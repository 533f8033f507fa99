package acceptance

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// The case as a client reads it (the contract's shape and the extra fields).
type caseView struct {
	ID         string        `json:"id"`
	EmployeeID string        `json:"employee_id"`
	Status     string        `json:"status"`
	Severity   string        `json:"severity"`
	Score      int           `json:"score"`
	Findings   []findingView `json:"findings"`
	Decision   *struct {
		Outcome string `json:"outcome"`
		By      string `json:"by"`
		Reason  string `json:"reason"`
	} `json:"decision"`
	History []struct {
		Actor  string `json:"actor"`
		Action string `json:"action"`
	} `json:"history"`
	OpenedAt  string `json:"opened_at"`
	UpdatedAt string `json:"updated_at"`
	Version   int64  `json:"version"`
}

type findingView struct {
	ID           string  `json:"id"`
	Rule         string  `json:"rule"`
	Severity     string  `json:"severity"`
	Score        int     `json:"score"`
	Summary      string  `json:"summary"`
	OccurredOn   string  `json:"occurred_on"`
	Counterparty string  `json:"counterparty"`
	CoveredBy    *string `json:"covered_by"`
	EventRefs    []struct {
		Source string `json:"source"`
		ID     string `json:"id"`
	} `json:"event_refs"`
	Employment string `json:"employment"`
	Project    string `json:"project"`
}

type auditView struct {
	Actor      string `json:"actor"`
	Action     string `json:"action"`
	ResourceID string `json:"resource_id"`
	OwnerID    string `json:"owner_id"`
	// OwnerIDs: every person of one read of many (a queue page).
	OwnerIDs  []string `json:"owner_ids"`
	Reason    string   `json:"reason"`
	RequestID string   `json:"request_id"`
}

type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// story holds the scenario's dates, relative to today so the declared
// engagements stay within the disclosure date limits whenever the test runs.
type story struct {
	today, launch                       civil.Date
	citic, huatai, cicc, gtja           civil.Date
	lookalike1, lookalike2, lookalike3  civil.Date
	leaverLeft, coolingOff, longAfter   civil.Date
	resigned                            civil.Date
	hireE1001, hireE1002, hireOthers    civil.Date
	ms11From                            civil.Date
	hrSource, expSource, cardSource, in string
}

func newStory() story {
	today := civil.Of(time.Now())
	launch := today.AddDays(-60) // MS11 launched two months ago
	left := today.AddDays(-300)
	return story{
		today: today, launch: launch,
		citic: launch.AddDays(-78), huatai: launch.AddDays(-70), cicc: today, gtja: launch.AddDays(-50),
		lookalike1: launch.AddDays(-75), lookalike2: launch.AddDays(-56), lookalike3: launch.AddDays(-55),
		leaverLeft: left, coolingOff: left.AddDays(46), longAfter: left.AddDays(214),
		resigned:  launch.AddDays(18),
		hireE1001: today.AddDays(-1900), hireE1002: today.AddDays(-1400), hireOthers: today.AddDays(-2500),
		ms11From: launch.AddDays(-200),
		hrSource: "hris/workday-cn", expSource: "expense/concur-cn", cardSource: "card/amex-cn", in: "intel/feed",
	}
}

func (s *system) ev(source, id string, data any) event.Event {
	s.t.Helper()
	e, err := event.New(source, id, time.Now().Truncate(time.Second), data)
	if err != nil {
		s.t.Fatal(err)
	}
	if e.Raw, err = event.Encode(e); err != nil {
		s.t.Fatal(err)
	}
	return e
}

func money(a string) event.Money { return event.Money{Amount: a, Currency: "CNY"} }

// TestEVUnitResearchSeminars is issue 4's acceptance scenario:
//
//   - E1001 张伟 and E1002 李娜 work in the EV unit on confidential project
//     MS11 and attend brokerage "EV industry research seminars" for
//     consulting fees while employed, within MS11's pre-launch blackout.
//     E1001 files an expense claim naming the organiser, 中信证券, whose
//     seminar an intelligence report confirms; the claim reaches Moonlight
//     before E1001's HR events (late context). E1002 pays 华泰证券 by card
//     and resigns after the seminar. Both: high-severity cases.
//   - E1003 王芳, a colleague, declared a similar paid talk at CICC and got it
//     approved before the expense arrived: the expense is covered, no case.
//   - E1006 赵磊's expense at 国泰君安 opens a case; his disclosure of it is
//     approved afterwards, which covers the finding and clears the case
//     automatically, with an audit entry.
//   - E1004 陈强 has expenses at 华泰大酒店, 海通宾馆 and Guidepoint Cafe, which
//     only resemble firms' names: no case.
//   - E1005 刘洋 left; a GLG expert call 46 days later falls in the cooling-off
//     period (low-severity case), a Capvision interview 214 days later is not
//     the company's concern (no finding).
func TestEVUnitResearchSeminars(t *testing.T) {
	start := time.Now()
	s := startSystem(t)
	st := newStory()
	compliance, auditor := s.token("C0001", "compliance"), s.token("A0001", "auditor")
	paid := true

	// Warm up: the consumer group has joined once one event is committed.
	warm := s.ev(st.hrSource, "warm-up", &event.EmployeeHired{EmployeeID: "E0001", Name: "Warm Up", Department: "IT", HireDate: st.hireOthers})
	s.produce(warm)
	s.waitConsumed(30 * time.Second)

	// E1003 declares today's CICC talk ahead of it and compliance approves
	// it, before any of E1003's events arrive. (A talk declared after the
	// fact would be an unapproved-engagement finding until approved.)
	var d3 struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	s.call(201, "POST", "/api/v1/me/disclosures", s.token("E1003", "employee"), map[string]any{
		"kind": "paid_seminar", "counterparty": "CICC", "counterparty_type": "brokerage",
		"topic": "EV industry outlook", "start_date": st.cicc, "end_date": st.cicc, "paid": true,
		"compensation": map[string]string{"amount": "5000.00", "currency": "CNY"},
	}, &d3)
	s.call(200, "POST", "/api/v1/disclosures/"+d3.ID+"/decision", compliance,
		map[string]any{"decision": "approve", "comment": "public outlook talk, no MS11 content", "version": 1}, &d3)
	if d3.Status != "approved" {
		t.Fatalf("E1003's disclosure is %s, want approved", d3.Status)
	}

	// Late context: E1001's claim arrives before anything HR knows of E1001.
	x1 := s.ev(st.expSource, "EXP-1", &event.ExpenseClaim{ClaimID: "EXP-1", EmployeeID: "E1001", IncurredOn: st.citic,
		Amount: money("3000.00"), Merchant: "中信证券股份有限公司", Category: "conference", Description: "EV行业研讨会 咨询费",
		City: "上海", Attendees: []string{"中信证券研究部"}})
	s.produce(x1)
	var early caseView
	latency := s.eventually("E1001's case from the claim alone", 10*time.Second, func() (bool, string) {
		cs := s.cases(auditor)
		c, ok := cs["E1001"]
		early = c
		return ok, fmt.Sprintf("cases: %v", keys(cs))
	})
	t.Logf("E1001's case was visible %s after its claim was produced", latency.Round(time.Millisecond))
	if early.Severity != "medium" || len(early.Findings) != 1 || early.Findings[0].Employment != "unknown" ||
		!strings.Contains(early.Findings[0].Summary, "no HR record of the employee's employment has arrived yet") {
		t.Errorf("before HR facts, E1001's case = %s %d %+v; want medium, employment unknown", early.Severity, early.Score, early.Findings)
	}

	hired := func(id, name string, on civil.Date) event.Event {
		return s.ev(st.hrSource, "hire-"+id, &event.EmployeeHired{EmployeeID: id, Name: name, Department: "EV Unit",
			Title: "Engineer", Location: "上海", HireDate: on})
	}
	onMS11 := func(id string) event.Event {
		return s.ev(st.hrSource, "ms11-"+id, &event.ProjectAssigned{EmployeeID: id, ProjectCode: "MS11", ProjectName: "EV sedan",
			Sensitivity: "confidential", LaunchDate: st.launch, EffectiveDate: st.ms11From})
	}
	claim := func(id, emp string, on civil.Date, merchant, desc, city, amount string) event.Event {
		return s.ev(st.expSource, id, &event.ExpenseClaim{ClaimID: id, EmployeeID: emp, IncurredOn: on, Amount: money(amount),
			Merchant: merchant, Category: "other", Description: desc, City: city})
	}
	card := func(id, emp string, on civil.Date, merchant, amount string) event.Event {
		at := time.Date(on.Time().Year(), on.Time().Month(), on.Time().Day(), 19, 30, 0, 0, time.FixedZone("CST", 8*3600))
		return s.ev(st.cardSource, id, &event.CardTransaction{TransactionID: id, EmployeeID: emp, OccurredAt: at,
			Amount: money(amount), Merchant: merchant, MCC: "8999", City: "上海"})
	}
	rest := []event.Event{
		hired("E1001", "张伟", st.hireE1001), onMS11("E1001"),
		hired("E1002", "李娜", st.hireE1002), onMS11("E1002"),
		s.ev(st.hrSource, "term-E1002", &event.EmployeeTerminated{EmployeeID: "E1002", TerminationDate: st.resigned, Reason: "resigned"}),
		hired("E1003", "王芳", st.hireOthers), hired("E1004", "陈强", st.hireOthers), hired("E1006", "赵磊", st.hireOthers),
		hired("E1005", "刘洋", st.hireOthers),
		s.ev(st.hrSource, "term-E1005", &event.EmployeeTerminated{EmployeeID: "E1005", TerminationDate: st.leaverLeft, Reason: "resigned"}),

		s.ev(st.in, "SEM-88", &event.SeminarReported{SeminarID: "SEM-88", Organizer: "中信证券研究部", Title: "EV产业链研讨会：新车型与供应链",
			Date: st.citic, City: "上海", Paid: &paid, SpeakerDescriptors: []string{"某新能源车企研发总监"}}),

		card("TXN-2", "E1002", st.huatai, "华泰证券（上海）有限公司", "2000.00"),
		claim("EXP-3", "E1003", st.cicc, "中国国际金融股份有限公司", "EV research seminar speaker fee", "北京", "5000.00"),
		claim("EXP-6", "E1006", st.gtja, "国泰君安证券股份有限公司", "新能源车电驱专家交流会 顾问费", "上海", "4000.00"),
		claim("EXP-41", "E1004", st.lookalike1, "华泰大酒店", "商务宴请", "南京", "860.00"),
		claim("EXP-42", "E1004", st.lookalike2, "海通宾馆", "住宿", "杭州", "420.00"),
		card("TXN-43", "E1004", st.lookalike3, "Guidepoint Cafe", "58.00"),
		claim("EXP-51", "E1005", st.coolingOff, "滴滴出行", "GLG expert call taxi", "上海", "65.00"),
		claim("EXP-52", "E1005", st.longAfter, "凯盛融英", "专家访谈", "上海", "1500.00"),
	}
	s.produce(rest...)

	// Which employees get cases, at which severity, and why.
	type want struct {
		severity     string
		score        int
		counterparty string
		employment   string
		project      string
		summary      []string
		refs         []string
	}
	wants := map[string]want{
		"E1001": {"high", 70, "CITIC Securities", "employed", "MS11", []string{
			fmt.Sprintf("Expense claim at 中信证券 (CITIC Securities, brokerage) on %s for CNY 3,000.00; described as \"EV行业研讨会 咨询费\"", st.citic),
			"it mentions 研讨会, 咨询费",
			fmt.Sprintf("matches the paid seminar \"EV产业链研讨会：新车型与供应链\" reported by 中信证券研究部 on %s in 上海", st.citic),
			fmt.Sprintf("while assigned to confidential project MS11 (EV sedan), 78 days before its launch on %s", st.launch),
			"no approved disclosure covers it"}, []string{"EXP-1", "SEM-88"}},
		"E1002": {"high", 50, "Huatai Securities", "employed", "MS11", []string{
			fmt.Sprintf("Card payment to 华泰证券 (Huatai Securities, brokerage) on %s for CNY 2,000.00", st.huatai),
			fmt.Sprintf("70 days before its launch on %s", st.launch), "no approved disclosure covers it"}, []string{"TXN-2"}},
		"E1005": {"low", 5, "GLG", "cooling_off", "", []string{
			fmt.Sprintf("naming GLG (expert network); described as \"GLG expert call taxi\"; it mentions expert call; 46 days after employment ended on %s (within the 180-day cooling-off period)", st.leaverLeft),
			"no approved disclosure covers it"}, []string{"EXP-51"}},
		"E1006": {"high", 40, "Guotai Junan Securities", "employed", "", []string{
			"(Guotai Junan Securities, brokerage) on " + string(st.gtja) + " for CNY 4,000.00",
			"it mentions 交流会, 顾问费", "no approved disclosure covers it"}, []string{"EXP-6"}},
	}
	check := func(cs map[string]caseView) []string {
		var problems []string
		if got, wantIDs := keys(cs), keys(wants); !slices.Equal(got, wantIDs) {
			problems = append(problems, fmt.Sprintf("employees with cases = %v, want %v", got, wantIDs))
		}
		for id, c := range cs {
			if _, ok := wants[id]; !ok {
				problems = append(problems, fmt.Sprintf("unexpected case of %s: %s %s %d %s", id, c.Status, c.Severity, c.Score, summaries(c)))
			}
		}
		for id, w := range wants {
			c, ok := cs[id]
			if !ok {
				continue
			}
			if c.Status != "open" || c.Severity != w.severity || c.Score != w.score || len(c.Findings) != 1 {
				problems = append(problems, fmt.Sprintf("%s: %s %s %d with %d findings, want open %s %d with 1",
					id, c.Status, c.Severity, c.Score, len(c.Findings), w.severity, w.score))
				continue
			}
			f := c.Findings[0]
			if f.Rule != "expense-at-research-counterparty" || f.Counterparty != w.counterparty || f.Employment != w.employment ||
				f.Project != w.project || f.CoveredBy != nil {
				problems = append(problems, fmt.Sprintf("%s: finding %s %q %s %q covered %v", id, f.Rule, f.Counterparty, f.Employment, f.Project, f.CoveredBy))
			}
			for _, part := range w.summary {
				if !strings.Contains(f.Summary, part) {
					problems = append(problems, fmt.Sprintf("%s: summary %q lacks %q", id, f.Summary, part))
				}
			}
			var refs []string
			for _, r := range f.EventRefs {
				refs = append(refs, r.ID)
			}
			if !slices.Equal(refs, w.refs) {
				problems = append(problems, fmt.Sprintf("%s: evidence %v, want %v", id, refs, w.refs))
			}
		}
		return problems
	}
	var cs map[string]caseView
	latency = s.eventually("the scenario's cases", 15*time.Second, func() (bool, string) {
		cs = s.cases(auditor)
		p := check(cs)
		return len(p) == 0, strings.Join(p, "\n")
	})
	t.Logf("all cases were as expected %s after the events were produced", latency.Round(time.Millisecond))
	if cs["E1001"].ID != early.ID {
		t.Errorf("E1001's case id changed from %s to %s when the HR facts arrived; the finding should stay in its case", early.ID, cs["E1001"].ID)
	}

	// E1006's disclosure is approved after the expense: it covers the
	// finding and the case clears itself, with an audit entry.
	var d6 struct {
		ID string `json:"id"`
	}
	s.call(201, "POST", "/api/v1/me/disclosures", s.token("E1006", "employee"), map[string]any{
		"kind": "paid_seminar", "counterparty": "国泰君安", "counterparty_type": "brokerage",
		"topic": "Electric drive supply chain", "start_date": st.gtja, "end_date": st.gtja, "paid": true,
		"compensation": map[string]string{"amount": "4000.00", "currency": "CNY"},
	}, &d6)
	s.call(200, "POST", "/api/v1/disclosures/"+d6.ID+"/decision", compliance,
		map[string]any{"decision": "approve", "comment": "declared late; no MS11 involvement", "version": 1}, nil)
	var cleared caseView
	s.eventually("E1006's case cleared by the late approval", 10*time.Second, func() (bool, string) {
		s.call(200, "GET", "/api/v1/cases/"+cs["E1006"].ID, compliance, nil, &cleared)
		return cleared.Status == "cleared", "status " + cleared.Status
	})
	if f := cleared.Findings[0]; cleared.Decision == nil || cleared.Decision.By != "system" || f.CoveredBy == nil || *f.CoveredBy != d6.ID ||
		!strings.Contains(f.Summary, "covered by the approved declaration (paid seminar, "+string(st.gtja)+")") {
		t.Errorf("E1006's cleared case: decision %+v, finding covered by %v, summary %q", cleared.Decision, f.CoveredBy, f.Summary)
	}
	var autoClears page[auditView]
	s.call(200, "GET", "/api/v1/audit?action=case.auto_clear", auditor, nil, &autoClears)
	if len(autoClears.Items) != 1 || autoClears.Items[0].ResourceID != cleared.ID || autoClears.Items[0].OwnerID != "E1006" ||
		autoClears.Items[0].Actor != "system" {
		t.Errorf("case.auto_clear entries = %+v, want one for %s", autoClears.Items, cleared.ID)
	}

	// Replay: every event again changes nothing.
	var systemBefore, systemAfter page[auditView]
	s.call(200, "GET", "/api/v1/audit?actor=system&limit=500", auditor, nil, &systemBefore)
	before := s.snapshot(auditor)
	s.produce(append([]event.Event{warm, x1}, rest...)...)
	s.waitConsumed(20 * time.Second)
	after := s.snapshot(auditor)
	if len(before) != 4 || !reflect.DeepEqual(before, after) {
		t.Errorf("replaying every event changed the cases:\nbefore %+v\nafter  %+v", before, after)
	}
	s.call(200, "GET", "/api/v1/audit?actor=system&limit=500", auditor, nil, &systemAfter)
	if len(systemBefore.Items) == 0 || !reflect.DeepEqual(systemBefore, systemAfter) {
		t.Errorf("replaying every event changed the system's audit entries: %d before, %d after", len(systemBefore.Items), len(systemAfter.Items))
	}

	// Reviewers read, then clear one case and confirm another, each at the
	// version they read.
	var decided, read caseView
	s.call(200, "GET", "/api/v1/cases/"+cs["E1005"].ID, compliance, nil, &read)
	s.call(200, "POST", "/api/v1/cases/"+cs["E1005"].ID+"/decision", compliance, map[string]any{
		"outcome": "cleared", "reason": "GLG call 46 days after leaving; former employee, nothing confidential was at stake",
		"version": read.Version,
	}, &decided)
	if decided.Status != "cleared" || decided.Decision == nil || decided.Decision.By != "C0001" {
		t.Errorf("E1005 after clearing: %+v", decided)
	}
	s.call(200, "GET", "/api/v1/cases/"+cs["E1001"].ID, compliance, nil, &read)
	s.call(200, "POST", "/api/v1/cases/"+cs["E1001"].ID+"/decision", compliance, map[string]any{
		"outcome": "confirmed", "reason": "paid CITIC seminar during the MS11 blackout without a disclosure",
		"version": read.Version,
	}, &decided)
	if decided.Status != "confirmed" {
		t.Errorf("E1001 after confirming: %s", decided.Status)
	}
	s.call(422, "POST", "/api/v1/cases/"+cs["E1001"].ID+"/decision", compliance,
		map[string]any{"outcome": "cleared", "reason": "again", "version": decided.Version}, nil)

	var decisions, reads page[auditView]
	s.call(200, "GET", "/api/v1/audit?action=case.decide", auditor, nil, &decisions)
	gotDecisions := map[string]string{}
	for _, e := range decisions.Items {
		if e.Actor != "C0001" || e.RequestID == "" || e.Reason == "" {
			t.Errorf("case.decide entry without actor, request id or reason: %+v", e)
		}
		gotDecisions[e.OwnerID] = e.ResourceID
	}
	if wantDecisions := map[string]string{"E1001": cs["E1001"].ID, "E1005": cs["E1005"].ID}; !reflect.DeepEqual(gotDecisions, wantDecisions) {
		t.Errorf("case.decide entries by owner = %v, want %v", gotDecisions, wantDecisions)
	}
	s.call(200, "GET", "/api/v1/audit?action=case.read&actor=C0001&limit=500", auditor, nil, &reads)
	readOwners := map[string]bool{}
	for _, e := range reads.Items {
		readOwners[e.OwnerID] = true
		for _, o := range e.OwnerIDs {
			readOwners[o] = true
		}
		if e.RequestID == "" || e.Reason == "" {
			t.Errorf("case.read entry without request id or reason: %+v", e)
		}
	}
	if !readOwners["E1006"] {
		t.Errorf("compliance's reads of E1006's case are not in the audit log (read owners %v)", readOwners)
	}
	s.call(200, "GET", "/api/v1/audit?action=case.read&actor=A0001&owner_id=E1002&limit=5", auditor, nil, &reads)
	if len(reads.Items) == 0 {
		t.Error("the auditor's reads of E1002's case (through the queue) are not in the audit log")
	}

	if took := time.Since(start); took > 60*time.Second {
		t.Errorf("the scenario took %s, want under 60s", took)
	}
}

// cases returns every case by employee id, through the API.
func (s *system) cases(token string) map[string]caseView {
	s.t.Helper()
	var p page[caseView]
	s.call(200, "GET", "/api/v1/cases?limit=200", token, nil, &p)
	out := map[string]caseView{}
	for _, c := range p.Items {
		if prev, dup := out[c.EmployeeID]; dup {
			s.t.Fatalf("employee %s has two cases: %s and %s", c.EmployeeID, prev.ID, c.ID)
		}
		out[c.EmployeeID] = c
	}
	return out
}

// snapshot is every case in full, read one by one.
func (s *system) snapshot(token string) []caseView {
	s.t.Helper()
	var out []caseView
	for _, c := range s.cases(token) {
		var full caseView
		s.call(200, "GET", "/api/v1/cases/"+url.PathEscape(c.ID), token, nil, &full)
		out = append(out, full)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func summaries(c caseView) string {
	var out []string
	for _, f := range c.Findings {
		out = append(out, fmt.Sprintf("[%s %s: %s]", f.Rule, f.Severity, f.Summary))
	}
	return strings.Join(out, " ")
}
