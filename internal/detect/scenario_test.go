package detect

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// The acceptance story, as pure detection: events of the contract in, one
// case score and severity per employee out.
//
//   - E1001 and E1002 work in the EV unit on confidential project MS11
//     (launch 2024-03-28). Both attend brokerage "EV industry research
//     seminars" for consulting fees while employed. E1001 files an expense
//     naming the organiser (中信证券), which an intel report of the seminar
//     corroborates. E1002 pays 华泰证券 by card and resigns later.
//   - E1003, a colleague, declared a similar paid talk at CICC and got it
//     approved: the expense is covered.
//   - E1004 has expenses at businesses that only resemble firms' names.
//   - E1005 left in September 2023: a GLG expert call 46 days later is in the
//     cooling-off period (low); a Capvision one 214 days later is not reported.
func TestScenarioEVUnitSeminars(t *testing.T) {
	wl := testWatchlist(t)
	cfg := DefaultConfig()
	now := d("2024-06-30")

	hr := func(id string, typ string, data any) event.Event {
		return event.Event{Ref: event.Ref{Source: "hris/workday-cn", ID: id}, Type: typ, Data: data}
	}
	exp := func(id, emp, date, merchant, description, cityName, amt string, att ...string) event.Event {
		return event.Event{Ref: event.Ref{Source: "expense/concur-cn", ID: id}, Type: event.TypeExpenseClaim,
			Data: &event.ExpenseClaim{ClaimID: id, EmployeeID: emp, IncurredOn: d(date), Merchant: merchant, Description: description,
				City: cityName, Attendees: att, Amount: event.Money{Amount: amt, Currency: "CNY"}, Category: "conference"}}
	}
	txn := func(id, emp, at, merchant, amt string) event.Event {
		ts, _ := time.Parse(time.RFC3339, at)
		return event.Event{Ref: event.Ref{Source: "card/amex-cn", ID: id}, Type: event.TypeCardTransaction,
			Data: &event.CardTransaction{TransactionID: id, EmployeeID: emp, OccurredAt: ts, Merchant: merchant, City: "上海",
				Amount: event.Money{Amount: amt, Currency: "CNY"}}}
	}
	hired := func(emp, name, date string) event.Event {
		return hr("h-"+emp, event.TypeEmployeeHired, &event.EmployeeHired{EmployeeID: emp, Name: name, Department: "EV Unit", HireDate: d(date), Location: "上海"})
	}
	onMS11 := func(emp string) event.Event {
		return hr("p-"+emp, event.TypeProjectAssigned, &event.ProjectAssigned{EmployeeID: emp, ProjectCode: "MS11", ProjectName: "EV sedan",
			Sensitivity: "confidential", LaunchDate: d("2024-03-28"), EffectiveDate: d("2023-09-01")})
	}
	paid := true
	events := []event.Event{
		hired("E1001", "张伟", "2019-03-01"), onMS11("E1001"),
		hired("E1002", "李娜", "2020-07-01"), onMS11("E1002"),
		hr("t-E1002", event.TypeEmployeeTerminated, &event.EmployeeTerminated{EmployeeID: "E1002", TerminationDate: d("2024-04-15"), Reason: "resigned"}),
		hired("E1003", "王芳", "2018-05-01"),
		hired("E1004", "陈强", "2021-01-01"),
		hired("E1005", "刘洋", "2017-01-01"),
		hr("t-E1005", event.TypeEmployeeTerminated, &event.EmployeeTerminated{EmployeeID: "E1005", TerminationDate: d("2023-09-30"), Reason: "resigned"}),

		{Ref: event.Ref{Source: "intel/feed", ID: "S-88"}, Type: event.TypeSeminarReported, Data: &event.SeminarReported{
			SeminarID: "S-88", Organizer: "中信证券研究部", Title: "EV产业链研讨会：新车型与供应链", Date: d("2024-01-10"), City: "上海", Paid: &paid,
			SpeakerDescriptors: []string{"某新能源车企研发总监"}}},

		exp("X-1", "E1001", "2024-01-10", "中信证券股份有限公司", "EV行业研讨会 咨询费", "上海", "3000.00"),
		txn("T-7", "E1002", "2024-01-18T19:30:00+08:00", "华泰证券（上海）有限公司", "2000"),
		exp("X-3", "E1003", "2024-01-25", "中国国际金融股份有限公司", "EV research seminar speaker fee", "北京", "5000.00"),
		exp("X-4", "E1004", "2024-01-12", "华泰大酒店", "商务宴请", "南京", "860.00"),
		exp("X-5", "E1004", "2024-02-02", "海通宾馆", "住宿", "杭州", "420.00"),
		txn("T-6", "E1004", "2024-02-03T12:00:00+08:00", "Guidepoint Cafe", "58.00"),
		exp("X-7", "E1005", "2023-11-15", "滴滴出行", "GLG expert call taxi", "上海", "65.00"),
		exp("X-8", "E1005", "2024-05-01", "凯盛融英", "专家访谈", "上海", "1500.00"),
	}
	engagements := []Engagement{{
		ID: "D-31", EmployeeID: "E1003", Kind: "speaking", Counterparty: "CICC", CounterpartyType: "brokerage", Topic: "EV outlook",
		Start: d("2024-01-25"), Status: StatusApproved, Paid: true, Compensation: event.Money{Amount: "5000.00", Currency: "CNY"},
		DecidedAt: time.Date(2024, 1, 20, 10, 0, 0, 0, time.UTC),
	}}

	type result struct {
		Score    int
		Severity string
		Rules    []string
	}
	run := func(events []event.Event) (map[string]result, map[string][]Finding) {
		emps := map[string]*employee.Employee{}
		signals := map[string][]Signal{}
		var seminars []Seminar
		for _, ev := range events {
			if f, ok := employee.FactOf(ev); ok {
				id := ev.EmployeeID()
				if emps[id] == nil {
					emps[id] = &employee.Employee{ID: id}
				}
				emps[id].Add(f) // as the employee store does: a redelivered fact changes nothing
			}
			if s, ok := SignalOf(cfg, wl, ev); ok {
				signals[s.EmployeeID] = append(signals[s.EmployeeID], s)
			}
			if s, ok := SeminarOf(wl, ev); ok {
				seminars = append(seminars, s)
			}
		}
		out, all := map[string]result{}, map[string][]Finding{}
		for _, id := range []string{"E1001", "E1002", "E1003", "E1004", "E1005"} {
			var engs []Engagement
			for _, e := range engagements {
				if e.EmployeeID == id {
					engs = append(engs, e)
				}
			}
			fs := Evaluate(cfg, wl, Input{EmployeeID: id, Employee: *emps[id], Signals: signals[id],
				Seminars: seminars, Engagements: engs, Now: now})
			all[id] = fs
			score, sev := Score(cfg, fs)
			if sev == "" {
				continue // no case
			}
			r := result{Score: score, Severity: sev}
			for _, f := range fs {
				if !f.Covered() {
					r.Rules = append(r.Rules, f.Rule)
				}
			}
			out[id] = r
		}
		return out, all
	}

	cases, findings := run(events)
	want := map[string]result{
		"E1001": {Score: 70, Severity: "high", Rules: []string{RuleExpense}},
		"E1002": {Score: 50, Severity: "high", Rules: []string{RuleExpense}},
		"E1005": {Score: 5, Severity: "low", Rules: []string{RuleExpense}},
	}
	if !reflect.DeepEqual(cases, want) {
		t.Errorf("cases = %+v\nwant    %+v", cases, want)
	}

	wantSummaries := map[string][]string{
		"E1001": {"Expense claim at 中信证券 (CITIC Securities, brokerage) on 2024-01-10 for CNY 3,000.00; described as \"EV行业研讨会 咨询费\"; " +
			"it mentions 研讨会, 咨询费; matches the paid seminar \"EV产业链研讨会：新车型与供应链\" reported by 中信证券研究部 on 2024-01-10 in 上海; " +
			"while assigned to confidential project MS11 (EV sedan), 78 days before its launch on 2024-03-28; no approved disclosure covers it"},
		"E1002": {"Card payment to 华泰证券 (Huatai Securities, brokerage) on 2024-01-18 for CNY 2,000.00; " +
			"while assigned to confidential project MS11 (EV sedan), 70 days before its launch on 2024-03-28; no approved disclosure covers it"},
		"E1003": {"Expense claim at 中国国际金融 (CICC, brokerage) on 2024-01-25 for CNY 5,000.00" +
			"; described as \"EV research seminar speaker fee\"; it mentions research seminar, speaker fee; covered by the approved declaration (speaking, 2024-01-25)"},
		"E1004": nil,
		"E1005": {"Expense claim at \"滴滴出行\" on 2023-11-15 for CNY 65.00 naming GLG (expert network); described as \"GLG expert call taxi\"; " +
			"it mentions expert call; 46 days after employment ended on 2023-09-30 (within the 180-day cooling-off period); no approved disclosure covers it"},
	}
	for id, want := range wantSummaries {
		var got []string
		for _, f := range findings[id] {
			got = append(got, f.Summary)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s summaries:\n got  %q\n want %q", id, got, want)
		}
	}
	if refs := findings["E1001"][0].EventRefs; len(refs) != 2 || refs[1].ID != "S-88" {
		t.Errorf("E1001 evidence = %+v, want the claim and the seminar report", refs)
	}

	// Replaying every event (twice, in reverse order) changes nothing.
	replay := append(slices.Clone(events), events...)
	slices.Reverse(replay)
	again, againFindings := run(replay)
	if !reflect.DeepEqual(again, cases) || !reflect.DeepEqual(againFindings, findings) {
		t.Errorf("replay changed the outcome:\n%s", diff(findings, againFindings))
	}
}

func diff(a, b map[string][]Finding) string {
	var sb strings.Builder
	for id := range a {
		if !reflect.DeepEqual(a[id], b[id]) {
			fmt.Fprintf(&sb, "%s:\n  %+v\n  %+v\n", id, a[id], b[id])
		}
	}
	return sb.String()
}
