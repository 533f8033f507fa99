package evaluate_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/evaluate/evaluatetest"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// caseView is what detection decides about a case (not when it decided it).
type caseView struct {
	ID, Status, Severity string
	Score                int
	Findings             []string
}

func views(cs []review.Case) map[string]caseView {
	out := map[string]caseView{}
	for _, c := range cs {
		v := caseView{ID: c.ID, Status: c.Status, Severity: c.Severity, Score: c.Score}
		for _, f := range c.Findings {
			v.Findings = append(v.Findings, f.ID+"/"+f.Severity+"/"+f.CoveredBy)
		}
		out[c.EmployeeID] = v
	}
	return out
}

// A batch touching many employees is re-evaluated with batch reads; then
// re-evaluating each employee alone (one read per input) must change nothing.
func TestBatchReevaluationEqualsOneByOne(t *testing.T) {
	merchants := []string{"GLG", "凯盛融英信息科技（上海）股份有限公司", "中信证券 汽车研究组", "滴滴出行", "Tegus"}
	var evs []event.Event
	var emps []string
	for i := range 12 { // more than the stores' point-read limit, so $in reads too
		emp := fmt.Sprintf("E%03d", i)
		emps = append(emps, emp)
		evs = append(evs, evaluatetest.Hired(t, emp, "2020-01-01"))
		if i%3 == 0 {
			evs = append(evs, evaluatetest.OnMS11(t, emp))
		}
		for j := range 1 + i%3 {
			evs = append(evs, evaluatetest.Claim(t, fmt.Sprintf("c-%s-%d", emp, j), emp, fmt.Sprintf("2024-01-%02d", 10+j),
				merchants[(i+j)%len(merchants)], "EV行业研讨会咨询费"))
		}
	}
	paid := true
	evs = append(evs, evaluatetest.Event(t, "intel/test", "s-1", &event.SeminarReported{SeminarID: "S1", Organizer: "GLG", Title: "EV expert call",
		Date: d("2024-01-10"), City: "上海", Paid: &paid}))

	w := evaluatetest.New(t)
	w.Feed(evs...)
	before := w.AllCases()
	if len(before) < 6 {
		t.Fatalf("only %d cases: the test data opens too few to compare", len(before))
	}
	for _, emp := range emps {
		if err := w.Engine.Reevaluate(t.Context(), emp); err != nil {
			t.Fatal(err)
		}
	}
	after := w.AllCases()
	got, want := views(before), views(after)
	for emp := range want {
		if !reflect.DeepEqual(got[emp], want[emp]) {
			t.Errorf("%s: batch reads gave %+v, one by one %+v", emp, got[emp], want[emp])
		}
	}
	if len(got) != len(want) {
		t.Errorf("batch reads opened %d cases, one by one %d", len(got), len(want))
	}
	for i := range before {
		if before[i].ID == after[i].ID && before[i].Version != after[i].Version {
			t.Errorf("case %s of %s was rewritten when re-evaluated alone", before[i].ID, before[i].EmployeeID)
		}
	}
}
