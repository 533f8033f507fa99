package backtrace

import (
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/event"
)

var (
	seen   = civil.MustParse("2025-06-30")
	semRef = event.Ref{Source: "intel", ID: "s1"}
	citic  = detect.Seminar{Ref: semRef, ID: "SEM-1", Organizer: "中信证券", Title: "新能源车产业链交流会：ＹＵ７ 电池包", Date: civil.MustParse("2025-05-10"), CounterpartyID: "citic"}
	types  = func(id string) string {
		if id == "citic" {
			return "brokerage"
		}
		return "expert_network"
	}
)

func sig(d string, cp string) detect.Signal {
	return detect.Signal{Ref: event.Ref{Source: "exp", ID: d + cp}, Date: civil.MustParse(d), Counterparty: cp, CounterpartyID: cp}
}

func TestRank(t *testing.T) {
	base := Input{FirstSeen: seen, Keywords: []string{"yu7"}, BlackoutFrom: civil.MustParse("2025-04-01"),
		BlackoutTo: civil.MustParse("2025-06-29"), Seminars: []detect.Seminar{citic}, CounterpartyType: types}
	w := DefaultConfig().Weights
	tests := []struct {
		name   string
		give   []Person
		want   []string // subjects best first
		scores []int
	}{
		{
			name: "an insider tied to a brokerage seminar on the topic ranks above those without evidence",
			give: []Person{
				{Subject: "P-A", Kind: KindInsider, Attestation: "done"},
				{Subject: "P-B", Kind: KindInsider, Attestation: "done", Signals: []detect.Signal{sig("2025-05-10", "citic")}},
				{Subject: "P-C", Kind: KindInsider, Attestation: "done"},
			},
			want:   []string{"P-B", "P-A", "P-C"},
			scores: []int{w.ResearchExpense + w.Seminar + w.BrokerageSeminar, 0, 0},
		},
		{
			name: "a seminar off the topic or outside the window does not count; the expense still does",
			give: []Person{
				{Subject: "P-B", Kind: KindInsider, Attestation: "done", Signals: []detect.Signal{sig("2025-05-20", "citic"), sig("2025-01-01", "citic")}},
			},
			want:   []string{"P-B"},
			scores: []int{w.ResearchExpense},
		},
		{
			name: "findings in the window by severity, covered and attestation findings left out; missing attestation counts",
			give: []Person{
				{Subject: "P-D", Kind: KindInsider, Attestation: "missing", Findings: []detect.Finding{
					{ID: "1", Rule: "expense-at-research-counterparty", Severity: "high", OccurredOn: civil.MustParse("2025-06-01")},
					{ID: "2", Rule: "unapproved-engagement", Severity: "medium", OccurredOn: civil.MustParse("2025-06-02"), CoveredBy: "d1"},
					{ID: "3", Rule: "attestation-overdue", Severity: "low", OccurredOn: civil.MustParse("2025-06-03")},
				}},
				{Subject: "P-E", Kind: KindInsider, Attestation: "overdue"},
			},
			want:   []string{"P-D", "P-E"},
			scores: []int{w.FindingHigh + w.AttestationMissing, w.AttestationMissing},
		},
		{
			name: "an approved engagement in the blackout counts; a partner without a valid NDA counts; ties put insiders first",
			give: []Person{
				{Subject: "P-F", Kind: KindPartner, Partner: "Auto Daily", NDAValid: false},
				{Subject: "P-G", Kind: KindInsider, Attestation: "done", Engagements: []detect.Engagement{
					{ID: "d1", Status: "approved", Counterparty: "GLG", Start: civil.MustParse("2025-06-10")},
					{ID: "d2", Status: "approved", Counterparty: "GLG", Start: civil.MustParse("2025-03-01")},
					{ID: "d3", Status: "pending", Counterparty: "GLG", Start: civil.MustParse("2025-06-11")},
				}},
				{Subject: "P-H", Kind: KindPartner, Partner: "Supplier", NDAValid: true},
			},
			want:   []string{"P-G", "P-F", "P-H"},
			scores: []int{w.BlackoutEngagement, w.NDAInvalid, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			in.People = tt.give
			got := Rank(DefaultConfig(), in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d items, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].Subject != tt.want[i] || got[i].Score != tt.scores[i] {
					t.Errorf("item %d = %s (%d), want %s (%d): %s", i, got[i].Subject, got[i].Score, tt.want[i], tt.scores[i], got[i].Explanation)
				}
				if got[i].Explanation == "" {
					t.Errorf("item %d has no explanation", i)
				}
			}
		})
	}
}

func TestExplainNamesTheSeminar(t *testing.T) {
	in := Input{FirstSeen: seen, Keywords: []string{"YU7"}, Seminars: []detect.Seminar{citic}, CounterpartyType: types,
		People: []Person{{Subject: "P-B", Kind: KindInsider, Attestation: "done", Findings: []detect.Finding{
			{ID: "1", Rule: "expense-at-research-counterparty", Severity: "high", OccurredOn: citic.Date, EventRefs: []event.Ref{semRef}}}}}}
	got := Rank(DefaultConfig(), in)[0]
	if !strings.Contains(got.Explanation, "中信证券") || !strings.Contains(got.Explanation, "brokerage") {
		t.Errorf("explanation = %q", got.Explanation)
	}
	codes := []string{}
	for _, r := range got.Reasons {
		codes = append(codes, r.Code)
	}
	if strings.Join(codes, ",") != "seminar,finding,brokerage_seminar" {
		t.Errorf("reasons = %v", codes)
	}
}
