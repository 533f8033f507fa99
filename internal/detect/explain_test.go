package detect

import (
	"reflect"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/employee"
)

func TestExplain(t *testing.T) {
	cfg := DefaultConfig()
	high := Finding{ID: "a", Severity: SeverityHigh, Score: 60}
	med := Finding{ID: "b", Severity: SeverityMedium, Score: 30}
	low := Finding{ID: "c", Severity: SeverityLow, Score: 5}
	covered := Finding{ID: "d", Severity: SeverityHigh, Score: 50, CoveredBy: "D1"}
	tests := []struct {
		name string
		give []Finding
		want Scoring
	}{
		{name: "nothing uncovered", give: []Finding{covered},
			want: Scoring{MaxScore: 100, Medium: 30, High: 70}},
		{name: "low finding stays low under the medium threshold", give: []Finding{low},
			want: Scoring{Sum: 5, MaxScore: 100, Score: 5, Medium: 30, High: 70, FindingsSeverity: SeverityLow, Severity: SeverityLow}},
		{name: "only uncovered findings count", give: []Finding{med, med, low, covered},
			want: Scoring{Sum: 65, MaxScore: 100, Score: 65, Medium: 30, High: 70, FindingsSeverity: SeverityMedium, Severity: SeverityMedium}},
		{name: "capped", give: []Finding{high, high},
			want: Scoring{Sum: 120, MaxScore: 100, Score: 100, Medium: 30, High: 70, FindingsSeverity: SeverityHigh, Severity: SeverityHigh}},
		{name: "threshold raises medium findings to high", give: []Finding{med, med, med},
			want: Scoring{Sum: 90, MaxScore: 100, Score: 90, Medium: 30, High: 70, FindingsSeverity: SeverityMedium, Severity: SeverityHigh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(cfg, tt.give)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Explain() = %+v, want %+v", got, tt.want)
			}
			if s, sev := Score(cfg, tt.give); s != got.Score || sev != got.Severity {
				t.Errorf("Score() = %d %q, Explain says %d %q", s, sev, got.Score, got.Severity)
			}
		})
	}
}

// TestFindingPointsAddUp: every part of a finding's score is named, with
// weight and all bonuses present (vocabulary, seminar, blackout) and with
// the cooling-off points replacing them.
func TestFindingPointsAddUp(t *testing.T) {
	cfg := DefaultConfig()
	wl := testWatchlist(t)
	ex := signal(t, wl, claim("c1", "2025-11-14", "中信证券", desc("专家访谈 咨询费"), city("Shanghai")))
	sm := sem(t, wl, seminar("s1", "2025-11-14", "中信证券", "Shanghai"))
	tests := []struct {
		name string
		emp  employee.Employee
		want []Point
	}{
		{name: "weight and every bonus",
			emp:  emp(hire("2020-01-01"), assign("MS11", "confidential", "2026-01-10", "2025-01-01")),
			want: []Point{{PartWeight, 30}, {PartVocabulary, 10}, {PartSeminar, 10}, {PartBlackout, 20}}},
		{name: "cooling-off replaces them",
			emp:  emp(hire("2020-01-01"), terminate("2025-10-01")),
			want: []Point{{PartCoolingOff, 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(cfg, wl, Input{EmployeeID: "E1", Employee: tt.emp, Signals: []Signal{ex}, Seminars: []Seminar{sm}, Now: d("2025-12-01")})
			if len(fs) == 0 {
				t.Fatal("no finding")
			}
			f := fs[0]
			if !reflect.DeepEqual(f.Points, tt.want) {
				t.Errorf("Points = %v, want %v", f.Points, tt.want)
			}
			sum := 0
			for _, p := range f.Points {
				sum += p.Points
			}
			if sum != f.Score {
				t.Errorf("points add up to %d, score %d", sum, f.Score)
			}
		})
	}
}
