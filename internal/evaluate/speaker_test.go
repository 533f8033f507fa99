package evaluate_test

import (
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/evaluate/evaluatetest"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// TestEngineSpeakerMatchFromStoredSeminar: a seminar report stored first,
// then the HR facts (a powertrain director, leave on the seminar date) open a
// medium seminar-speaker-match case with its score breakdown; the same
// employee without the leave gets nothing.
func TestEngineSpeakerMatchFromStoredSeminar(t *testing.T) {
	w := evaluatetest.New(t)
	paid := true
	w.Feed(evaluatetest.Event(t, "intel/test", "s-1", &event.SeminarReported{SeminarID: "SEM-1", Organizer: "凯盛融英", Title: "电驱专家交流会",
		Date: d("2024-05-20"), City: "上海", Paid: &paid, SpeakerDescriptors: []string{"某新能源车企电驱研发总监"}}))
	hire := func(emp string) event.Event {
		return evaluatetest.Event(t, "hris/test", "h-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp, Department: "EV Powertrain R&D",
			Title: "Director, Electric Drive", Location: "Shanghai", HireDate: d("2019-03-01")})
	}
	w.Feed(hire("E7"), evaluatetest.Event(t, "hris/test", "l-E7", &event.LeaveRecorded{EmployeeID: "E7", LeaveID: "LV-1",
		StartDate: d("2024-05-20"), EndDate: d("2024-05-20"), LeaveType: "personal"}))
	w.Feed(hire("E8"))

	c, ok := w.Open("E7")
	if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleSpeaker {
		t.Fatalf("E7: case %v %+v, want one %s finding", ok, c.Findings, detect.RuleSpeaker)
	}
	if c.Severity != detect.SeverityMedium || c.Scoring.MaxScore != 100 || c.Scoring.Medium != 30 || c.Scoring.Sum != c.Findings[0].Score {
		t.Errorf("E7: severity %s scoring %+v", c.Severity, c.Scoring)
	}
	if _, ok := w.Open("E8"); ok {
		t.Error("E8 (no leave, no payment) got a case from intelligence alone")
	}
}

// TestEngineSpeakerMatchLateAndOrdinaryPayment: the presence record and its
// index close the two gaps of the rule. E1's only corroboration is an
// ordinary taxi claim in Shanghai the day before (no research signal; E1 is
// based in Hefei); E2 was on leave that day; both were recorded before the
// seminar report, which arrives last and must re-evaluate them. E3 (no
// leave, a taxi in Beijing), E4 (taxi in Shanghai two days before) and E5
// (based in Shanghai: a taxi at home puts nobody at a seminar) get nothing.
// A redelivered taxi claim changes nothing.
func TestEngineSpeakerMatchLateAndOrdinaryPayment(t *testing.T) {
	w := evaluatetest.New(t)
	hire := func(emp, city string) event.Event {
		return evaluatetest.Event(t, "hris/test", "h-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp, Department: "EV Powertrain R&D",
			Title: "Director, Electric Drive", Location: city, HireDate: d("2019-03-01")})
	}
	taxi := func(id, emp, date, city string) event.Event {
		return evaluatetest.Event(t, "expense/test", id, &event.ExpenseClaim{ClaimID: id, EmployeeID: emp, IncurredOn: d(date), Merchant: "强生出租",
			Category: "taxi", City: city, Amount: event.Money{Amount: "86.00", Currency: "CNY"}})
	}
	w.Feed(hire("E1", "Hefei"), hire("E2", "Shanghai"), hire("E3", "Hefei"), hire("E4", "Hefei"), hire("E5", "Shanghai"))
	w.Feed(taxi("x-1", "E1", "2024-05-19", "Shanghai"), taxi("x-3", "E3", "2024-05-19", "北京"), taxi("x-4", "E4", "2024-05-18", "上海"),
		taxi("x-5", "E5", "2024-05-19", "上海"),
		evaluatetest.Event(t, "hris/test", "l-E2", &event.LeaveRecorded{EmployeeID: "E2", LeaveID: "LV-2",
			StartDate: d("2024-05-20"), EndDate: d("2024-05-21"), LeaveType: "personal"}))
	if cs := w.AllCases(); len(cs) != 0 {
		t.Fatalf("before the seminar report: %d cases, want none", len(cs))
	}
	paid := true
	w.Feed(evaluatetest.Event(t, "intel/test", "s-9", &event.SeminarReported{SeminarID: "SEM-9", Organizer: "凯盛融英", Title: "电驱专家交流会",
		Date: d("2024-05-20"), City: "上海市", Paid: &paid, SpeakerDescriptors: []string{"某新能源车企电驱研发总监"}}))

	for emp, want := range map[string]string{"E1": "a payment in Shanghai on 2024-05-19", "E2": "leave LV-2"} {
		c, ok := w.Open(emp)
		if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleSpeaker || c.Findings[0].Severity != detect.SeverityMedium {
			t.Fatalf("%s: case %v %+v, want one medium %s finding", emp, ok, c.Findings, detect.RuleSpeaker)
		}
		if !strings.Contains(c.Findings[0].Summary, want) {
			t.Errorf("%s: summary %q does not say %q", emp, c.Findings[0].Summary, want)
		}
	}
	for _, emp := range []string{"E3", "E4", "E5"} {
		if c, ok := w.Open(emp); ok {
			t.Errorf("%s: case %+v, want none (no corroboration)", emp, c.Findings)
		}
	}
	before, _ := w.Open("E1")
	w.Feed(taxi("x-1", "E1", "2024-05-19", "Shanghai"))
	if after, _ := w.Open("E1"); after.Version != before.Version || len(after.Findings) != 1 {
		t.Errorf("redelivered taxi claim changed E1's case: version %d -> %d", before.Version, after.Version)
	}
}

// TestEngineSpeakerMatchPaymentAfterReport: the seminar report first, the
// card feed a day later. The taxi the day before the seminar (away from
// home) corroborates; the same taxi for a Shanghai-based colleague does not,
// and a payment batch without any speaker seminar nearby writes nothing.
func TestEngineSpeakerMatchPaymentAfterReport(t *testing.T) {
	w := evaluatetest.New(t)
	hire := func(emp, city string) event.Event {
		return evaluatetest.Event(t, "hris/test", "h-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp, Department: "EV Powertrain R&D",
			Title: "Director, Electric Drive", Location: city, HireDate: d("2019-03-01")})
	}
	taxi := func(id, emp, date, city string) event.Event {
		return evaluatetest.Event(t, "expense/test", id, &event.ExpenseClaim{ClaimID: id, EmployeeID: emp, IncurredOn: d(date), Merchant: "强生出租",
			Category: "taxi", City: city, Amount: event.Money{Amount: "86.00", Currency: "CNY"}})
	}
	w.Feed(hire("E1", "Hefei"), hire("E5", "Shanghai"))
	paid := true
	w.Feed(evaluatetest.Event(t, "intel/test", "s-9", &event.SeminarReported{SeminarID: "SEM-9", Organizer: "凯盛融英", Title: "电驱专家交流会",
		Date: d("2024-05-20"), City: "上海市", Paid: &paid, SpeakerDescriptors: []string{"某新能源车企电驱研发总监"}}))
	w.Feed(taxi("x-0", "E1", "2024-04-02", "Shanghai"), taxi("x-9", "E5", "2024-04-02", "Hefei"))
	if cs := w.AllCases(); len(cs) != 0 {
		t.Fatalf("payments far from any speaker seminar made %d cases", len(cs))
	}
	w.Feed(taxi("x-1", "E1", "2024-05-19", "Shanghai"), taxi("x-5", "E5", "2024-05-19", "上海"))
	c, ok := w.Open("E1")
	if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleSpeaker {
		t.Fatalf("E1: case %v %+v, want one %s finding", ok, c.Findings, detect.RuleSpeaker)
	}
	if !strings.Contains(c.Findings[0].Summary, "a payment in Shanghai on 2024-05-19") {
		t.Errorf("E1: summary %q", c.Findings[0].Summary)
	}
	if _, ok := w.Open("E5"); ok {
		t.Error("E5: a taxi at home corroborated a speaker match")
	}
	acts, err := w.Signals.ActivityOf(t.Context(), []string{"E1", "E5"})
	if err != nil {
		t.Fatal(err)
	}
	if len(acts["E1"].Presence) != 1 || len(acts["E5"].Presence) != 0 {
		t.Errorf("kept presence E1 %v, E5 %v: want the one corroborating taxi of E1 only", acts["E1"].Presence, acts["E5"].Presence)
	}
}
