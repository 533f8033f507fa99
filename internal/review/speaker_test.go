package review_test

import (
	"testing"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// TestEngineSpeakerMatchFromStoredSeminar: a seminar report stored first,
// then the HR facts (a powertrain director, leave on the seminar date) open a
// medium seminar-speaker-match case with its score breakdown; the same
// employee without the leave gets nothing.
func TestEngineSpeakerMatchFromStoredSeminar(t *testing.T) {
	w := newWorld(t)
	paid := true
	w.feed(mustEvent(t, "intel/test", "s-1", &event.SeminarReported{SeminarID: "SEM-1", Organizer: "凯盛融英", Title: "电驱专家交流会",
		Date: d("2024-05-20"), City: "上海", Paid: &paid, SpeakerDescriptors: []string{"某新能源车企电驱研发总监"}}))
	hire := func(emp string) event.Event {
		return mustEvent(t, "hris/test", "h-"+emp, &event.EmployeeHired{EmployeeID: emp, Name: "N " + emp, Department: "EV Powertrain R&D",
			Title: "Director, Electric Drive", Location: "Shanghai", HireDate: d("2019-03-01")})
	}
	w.feed(hire("E7"), mustEvent(t, "hris/test", "l-E7", &event.LeaveRecorded{EmployeeID: "E7", LeaveID: "LV-1",
		StartDate: d("2024-05-20"), EndDate: d("2024-05-20"), LeaveType: "personal"}))
	w.feed(hire("E8"))

	c, ok := w.open("E7")
	if !ok || len(c.Findings) != 1 || c.Findings[0].Rule != detect.RuleSpeaker {
		t.Fatalf("E7: case %v %+v, want one %s finding", ok, c.Findings, detect.RuleSpeaker)
	}
	if c.Severity != detect.SeverityMedium || c.Scoring.MaxScore != 100 || c.Scoring.Medium != 30 || c.Scoring.Sum != c.Findings[0].Score {
		t.Errorf("E7: severity %s scoring %+v", c.Severity, c.Scoring)
	}
	if _, ok := w.open("E8"); ok {
		t.Error("E8 (no leave, no payment) got a case from intelligence alone")
	}
}
