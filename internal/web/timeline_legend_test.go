package web

import (
	"strings"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// The legend lists every symbol the timeline draws (a rejected declaration
// included) and nothing it does not; ticks name years; dots of one day are
// spread apart.
func TestTimelineLegendYearsAndSpread(t *testing.T) {
	l := &newI18n(nil).langs[0]
	now := time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC)
	start := civil.MustParse("2023-11-01")
	e := employee.Build("E1", []employee.Fact{{Ref: event.Ref{Source: "hr", ID: "h"}, Type: event.TypeEmployeeHired, Effective: start,
		Data: &event.EmployeeHired{EmployeeID: "E1", Name: "张伟", HireDate: start}}})
	day := civil.MustParse("2024-03-10")
	decls := []disclosure.Disclosure{
		{ID: "d1", Status: disclosure.StatusRejected, Input: disclosure.Input{Kind: disclosure.KindPaidSeminar, Counterparty: "GLG", StartDate: day, EndDate: day}},
		{ID: "d2", Status: disclosure.StatusApproved, Input: disclosure.Input{Kind: disclosure.KindSpeaking, Counterparty: "同济", StartDate: day, EndDate: day}},
	}
	fs := []detect.Finding{
		{ID: "f1", Rule: detect.RuleExpense, Severity: detect.SeverityHigh, OccurredOn: day},
		{ID: "f2", Rule: detect.RuleExpense, Severity: detect.SeverityLow, OccurredOn: day},
	}
	tl := buildTimeline(l, e, nil, decls, fs, now)
	var got []string
	for _, li := range tl.Legend() {
		got = append(got, li.Class+"/"+li.Shape)
		if !l.Has(li.Key) {
			t.Errorf("legend key %s has no message", li.Key)
		}
	}
	want := []string{"tl-emp/bar", "tl-decl tl-approved/dot", "tl-decl tl-rejected/dot", "tl-finding tl-sev-high/dot", "tl-finding tl-sev-low/dot"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("legend = %v, want %v", got, want)
	}
	svg := string(tl.SVG())
	if !strings.Contains(svg, ">2024-01<") {
		t.Errorf("no year on the axis: %s", svg[:min(400, len(svg))])
	}
	// Two dots on one day of one lane are drawn at different heights.
	ys := map[string]bool{}
	for _, part := range strings.Split(svg, "<circle ")[1:] {
		if strings.Contains(part, "tl-decl") {
			i := strings.Index(part, `cy="`)
			ys[part[i:i+10]] = true
		}
	}
	if len(ys) != 2 {
		t.Errorf("the two declarations of one day share a position: %v", ys)
	}
	if tickLabel(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), false) != "05" || tickLabel(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), true) != "2024-05" {
		t.Error("tick labels")
	}
}
