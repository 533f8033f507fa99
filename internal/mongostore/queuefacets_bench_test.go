package mongostore

import (
	"fmt"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// go test -run '^$' -bench CaseCreate -benchtime 300x ./internal/mongostore/
// The cost of a case write with its queue row, by queue mode.
func BenchmarkCaseCreate(b *testing.B) {
	for _, m := range []struct {
		name string
		mode int
	}{{"index", queueByIndex}, {"facets", queueByFacets}} {
		b.Run(m.name, func(b *testing.B) {
			db := newBenchDB(b)
			db.queueMode = m.mode
			s := NewCaseStore(db)
			for i := 0; b.Loop(); i++ {
				c := testCase(fmt.Sprintf("C%06d", i), fmt.Sprintf("E%06d", i), "R&D", "high", 30+i%40, detect.RuleExpense, "GLG")
				if err := s.Create(b.Context(), c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// go test -run '^$' -bench QueuePage -benchtime 50x ./internal/mongostore/
// A queue page of 50 over 2,000 open cases, by queue mode.
func BenchmarkQueuePage(b *testing.B) {
	for _, m := range []struct {
		name string
		mode int
	}{{"index", queueByIndex}, {"facets", queueByFacets}} {
		b.Run(m.name, func(b *testing.B) {
			db := newBenchDB(b)
			db.queueMode = m.mode
			s := NewCaseStore(db)
			for i := range 2000 {
				c := testCase(fmt.Sprintf("C%06d", i), fmt.Sprintf("E%06d", i), "R&D", "high", 30+i%40, detect.RuleExpense, "GLG")
				if err := s.Create(b.Context(), c); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if _, _, err := s.List(b.Context(), review.Filter{Status: review.StatusOpen, Severity: "high"}, 50, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func newBenchDB(b *testing.B) *DB {
	b.Helper()
	db := Use(testenv.Database(b))
	if err := db.EnsureIndexes(b.Context()); err != nil {
		b.Fatal(err)
	}
	return db
}
