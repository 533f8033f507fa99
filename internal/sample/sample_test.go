package sample

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
)

var testNow = time.Date(2026, 3, 14, 2, 30, 0, 0, time.UTC) // 10:30 in China

// decoded is a sample message decoded by the contract decoder.
type decoded struct {
	msg Message
	ev  event.Event
}

func decodeAll(t *testing.T, msgs []Message) []decoded {
	t.Helper()
	out := make([]decoded, 0, len(msgs))
	for i, m := range msgs {
		ev, err := event.Decode(m.Value)
		if err != nil {
			t.Fatalf("message %d does not decode: %v\n%s", i, err, m.Value)
		}
		out = append(out, decoded{m, ev})
	}
	return out
}

func TestGenerateFollowsContract(t *testing.T) {
	msgs := Generate(1, testNow)
	if n := len(msgs); n < 2000 || n > 6000 {
		t.Errorf("got %d events, want a few thousand", n)
	}
	seen := map[event.Ref]bool{}
	for _, d := range decodeAll(t, msgs) {
		wantTopic := map[string]string{"hr": TopicHR, "expense": TopicExpense, "intel": TopicIntel}[strings.SplitN(d.ev.Type, ".", 2)[0]]
		if d.msg.Topic != wantTopic {
			t.Errorf("%s on topic %q, want %q", d.ev.Type, d.msg.Topic, wantTopic)
		}
		if d.msg.Key != d.ev.PartitionKey() || d.msg.Key == "" {
			t.Errorf("%s keyed %q, want %q", d.ev.Type, d.msg.Key, d.ev.PartitionKey())
		}
		if d.ev.EmployeeID() != "" && d.ev.Subject != d.ev.EmployeeID() {
			t.Errorf("%s subject %q, want the employee %q", d.ev.Type, d.ev.Subject, d.ev.EmployeeID())
		}
		if seen[d.ev.Ref] {
			t.Errorf("duplicate event %+v", d.ev.Ref)
		}
		seen[d.ev.Ref] = true
		if d.ev.Time.IsZero() || d.ev.Time.After(testNow) {
			t.Errorf("%s %s at %v, want a time before now %v", d.ev.Type, d.ev.ID, d.ev.Time, testNow)
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a := Generate(7, testNow)
	if b := Generate(7, testNow.Add(5*time.Hour)); !reflect.DeepEqual(a, b) {
		t.Error("same seed and same day gave different sets")
	}
	ids := func(msgs []Message) map[string]bool {
		m := map[string]bool{}
		for _, d := range decodeAll(t, msgs) {
			m[d.ev.Source+"/"+d.ev.ID] = true
		}
		return m
	}
	// Event ids name facts, not dates: loading the set again tomorrow adds nothing.
	if !reflect.DeepEqual(ids(a), ids(Generate(7, testNow.AddDate(0, 0, 1)))) {
		t.Error("same seed on the next day gave different event ids")
	}
	other := ids(Generate(8, testNow))
	for id := range ids(a) {
		if other[id] {
			t.Fatalf("seeds 7 and 8 share event id %s", id)
		}
	}
}

// facts indexes a generated set for the story tests.
type facts struct {
	hired      map[string]*event.EmployeeHired
	terminated map[string]civil.Date
	assigned   map[string][]*event.ProjectAssigned // by project code
	expenses   []decoded
	seminars   []*event.SeminarReported
}

func collect(t *testing.T, msgs []Message) facts {
	f := facts{hired: map[string]*event.EmployeeHired{}, terminated: map[string]civil.Date{}, assigned: map[string][]*event.ProjectAssigned{}}
	for _, d := range decodeAll(t, msgs) {
		switch x := d.ev.Data.(type) {
		case *event.EmployeeHired:
			f.hired[x.EmployeeID] = x
		case *event.EmployeeTerminated:
			f.terminated[x.EmployeeID] = x.TerminationDate
		case *event.ProjectAssigned:
			f.assigned[x.ProjectCode] = append(f.assigned[x.ProjectCode], x)
		case *event.ExpenseClaim, *event.CardTransaction:
			f.expenses = append(f.expenses, d)
		case *event.SeminarReported:
			f.seminars = append(f.seminars, x)
		}
	}
	return f
}

// expenseFacts returns id, date and all free text of an expense event.
func expenseFacts(d decoded) (id string, on civil.Date, text string) {
	switch x := d.ev.Data.(type) {
	case *event.ExpenseClaim:
		return x.ClaimID, x.IncurredOn, strings.Join(append([]string{x.Merchant, x.Description}, x.Attendees...), " ")
	case *event.CardTransaction:
		return x.TransactionID, civil.Of(x.OccurredAt.In(zone)), x.Merchant
	}
	panic("not an expense")
}

// storyExpense matches the ids reserved for story expenses.
var storyExpense = regexp.MustCompile(`^(EXP-9\d{5}|TXN-9\d{7})$`)

// counterpartyText is what a watchlist or the seminar vocabulary would match,
// including the look-alikes' shared characters.
var counterpartyText = regexp.MustCompile(`(?i)证券|中信|华泰|国泰|天风|中金|海通|招商|广发|申万|凯盛|capvision|glg|格理|alphasights|third bridge|高临|guidepoint|tegus|研讨会|交流会|专家|访谈|调研|纪要|路演|咨询费`)

func TestOrdinaryExpensesResembleNoCounterparty(t *testing.T) {
	var story int
	for _, d := range collect(t, Generate(3, testNow)).expenses {
		id, _, text := expenseFacts(d)
		if storyExpense.MatchString(id) {
			story++
			continue
		}
		if m := counterpartyText.FindString(text); m != "" {
			t.Errorf("ordinary expense %s mentions %q: %s", id, m, text)
		}
	}
	if story != 17 {
		t.Errorf("got %d story expenses, want 17", story)
	}
}

func TestExpensesFallInThePastYearWhileEmployed(t *testing.T) {
	f := collect(t, Generate(1, testNow))
	today := civil.Of(Today(testNow))
	after := map[string]int{} // story expense id -> days after its employee left
	for _, d := range f.expenses {
		id, on, _ := expenseFacts(d)
		emp := d.ev.EmployeeID()
		h, ok := f.hired[emp]
		if !ok {
			t.Fatalf("expense %s of %s, who was never hired", id, emp)
		}
		if on.Before(today.AddDays(-366)) || !on.Before(today) {
			t.Errorf("expense %s on %s, want within the year before %s", id, on, today)
		}
		if on.Before(h.HireDate) {
			t.Errorf("expense %s on %s before %s was hired on %s", id, on, emp, h.HireDate)
		}
		if left, ok := f.terminated[emp]; ok && on.After(left) {
			after[id] = left.DaysUntil(on)
		}
	}
	// Only the two story leavers spend after leaving: one inside any
	// reasonable cooling-off period, one long after it.
	if want := map[string]int{"EXP-900008": 15, "EXP-900009": 460}; !reflect.DeepEqual(after, want) {
		t.Errorf("expenses after termination (id: days) = %v, want %v", after, want)
	}
}

func TestStoryIsInTheData(t *testing.T) {
	f := collect(t, Generate(1, testNow))
	if n := len(f.hired); n < 40 || n > 60 {
		t.Errorf("got %d employees, want 40-60", n)
	}
	for id, h := range f.hired {
		if h.ManagerID != "" && f.hired[h.ManagerID] == nil {
			t.Errorf("%s reports to unknown %s", id, h.ManagerID)
		}
	}

	ms11 := map[string]civil.Date{}
	for _, a := range f.assigned["MS11"] {
		if a.Sensitivity != "confidential" {
			t.Errorf("MS11 sensitivity %q, want confidential", a.Sensitivity)
		}
		ms11[a.EmployeeID] = a.LaunchDate
	}
	for _, id := range []string{"E1012", "E1015", "E1020"} {
		launch, ok := ms11[id]
		if !ok {
			t.Fatalf("%s is not on MS11", id)
		}
		// The seminars must fall inside a pre-launch blackout window.
		if gap := civil.Of(Today(testNow)).AddDays(dayCITIC).DaysUntil(launch); gap < 60 || gap > 100 {
			t.Errorf("MS11 launches %d days after the first seminar, want 2-3 months", gap)
		}
	}
	if _, ok := ms11["E1022"]; ok {
		t.Error("E1022, the approved colleague, must not be on MS11")
	}
	if len(f.assigned["MX9"]) == 0 || f.assigned["MX9"][0].Sensitivity != "secret" {
		t.Error("want a secret project MX9")
	}

	byEmployee := map[string][]string{}
	for _, d := range f.expenses {
		if _, _, text := expenseFacts(d); counterpartyText.MatchString(text) {
			byEmployee[d.ev.EmployeeID()] = append(byEmployee[d.ev.EmployeeID()], text)
		}
	}
	for _, s := range Story(testNow) {
		if f.hired[s.EmployeeID] == nil || f.hired[s.EmployeeID].Name != s.Name {
			t.Errorf("story %s %s is not a hired employee of that name", s.EmployeeID, s.Name)
		}
		if s.Case && len(byEmployee[s.EmployeeID]) == 0 {
			t.Errorf("story says %s gets a case, but no expense of theirs mentions a counterparty", s.EmployeeID)
		}
		if s.Case != slices.Contains([]string{"low", "medium", "high"}, s.Severity) {
			t.Errorf("story %s: case %v with severity %q", s.EmployeeID, s.Case, s.Severity)
		}
	}
	if len(f.seminars) < 4 {
		t.Errorf("got %d seminar reports, want a few", len(f.seminars))
	}
}

func TestDisclosures(t *testing.T) {
	f := collect(t, Generate(1, testNow))
	statuses := map[string]int{}
	for _, d := range Disclosures(testNow) {
		h := f.hired[d.EmployeeID]
		if h == nil {
			t.Fatalf("disclosure of unknown employee %s", d.EmployeeID)
		}
		if _, err := civil.Parse(d.Body.StartDate.String()); err != nil || d.Body.EndDate.Before(d.Body.StartDate) {
			t.Errorf("%s: bad dates %s..%s", d.EmployeeID, d.Body.StartDate, d.Body.EndDate)
		}
		if d.Body.Paid != (d.Body.Compensation != nil) {
			t.Errorf("%s: paid %v with compensation %v", d.EmployeeID, d.Body.Paid, d.Body.Compensation)
		}
		switch d.DeciderRole {
		case "compliance":
			if f.hired[d.DecidedBy] == nil || f.hired[d.DecidedBy].Department != DeptCompliance {
				t.Errorf("%s: decider %s is not in compliance", d.EmployeeID, d.DecidedBy)
			}
		case "manager":
			if h.ManagerID != d.DecidedBy {
				t.Errorf("%s: decider %s is not the manager %s", d.EmployeeID, d.DecidedBy, h.ManagerID)
			}
		case "":
			if d.Decision != "" {
				t.Errorf("%s: decision %q without a decider", d.EmployeeID, d.Decision)
			}
		}
		b, err := json.Marshal(d.Body)
		if err != nil || !strings.Contains(string(b), `"counterparty_type":`) {
			t.Errorf("%s: body %s, %v", d.EmployeeID, b, err)
		}
		statuses[d.WantStatus]++
	}
	if want := map[string]int{"approved": 2, "pending": 1, "rejected": 1}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
}
