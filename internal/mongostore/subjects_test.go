package mongostore

import (
	"testing"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// TestBackfillSubjects: cases stored without a pseudonym get it once, on
// the case and its queue row, without a version change; a new key stores
// the new pseudonyms; the search by subject then finds them.
func TestBackfillSubjects(t *testing.T) {
	s := NewCaseStore(newTestDB(t))
	ctx := t.Context()
	a := testCase("S1", "E1", "R&D", "high", 70, detect.RuleExpense, "GLG")
	if err := s.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	key1 := func(id string) string { return "P-AAAA-" + id }
	for _, want := range []int{1, 0} {
		if n, err := s.BackfillSubjects(ctx, key1); err != nil || n != want {
			t.Fatalf("backfill = %d, %v; want %d", n, err, want)
		}
	}
	for _, status := range []string{"", review.StatusOpen} { // cases, queue rows
		got, _, err := s.List(ctx, review.Filter{Subject: "P-AAAA-E1", Status: status}, 10, "")
		if err != nil || len(got) != 1 || got[0].Version != 1 {
			t.Fatalf("search (status %q) = %+v, %v", status, got, err)
		}
	}
	key2 := func(id string) string { return "P-BBBB-" + id }
	if n, err := s.BackfillSubjects(ctx, key2); err != nil || n != 1 {
		t.Fatalf("backfill under a new key = %d, %v", n, err)
	}
	if got, _, err := s.List(ctx, review.Filter{Subject: "P-BBBB-E1", Status: review.StatusOpen}, 10, ""); err != nil || len(got) != 1 {
		t.Fatalf("search by the new pseudonym = %d, %v", len(got), err)
	}
}
