package mongostore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/review"
	"github.com/moonlight-oss/moonlight/internal/testenv"
)

// queueModes runs f once with the queue on queries (MongoDB's shape) and
// once on facets (FerretDB's and mongo-java-server's), each on a fresh
// database of the server under test: both must give the same answers.
func queueModes(t *testing.T, f func(t *testing.T, db *DB)) {
	for _, m := range []struct {
		name string
		mode int
	}{{"index", queueByIndex}, {"facets", queueByFacets}} {
		t.Run(m.name, func(t *testing.T) {
			db := newTestDB(t)
			db.queueMode = m.mode
			f(t, db)
		})
	}
}

// want computes what List must return from the cases themselves.
func wantList(all map[string]review.Case, f review.Filter) []string {
	var cs []review.Case
	for _, c := range all {
		switch {
		case f.Status != "" && c.Status != f.Status,
			f.Severity != "" && c.Severity != f.Severity,
			f.Department != "" && c.Department != f.Department,
			f.Rule != "" && !slices.Contains(c.Rules(), f.Rule),
			f.Counterparty != "" && !slices.Contains(c.Counterparties(), f.Counterparty),
			f.Subject != "" && c.Subject != f.Subject:
			continue
		}
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Score != cs[j].Score {
			return cs[i].Score > cs[j].Score
		}
		return cs[i].ID > cs[j].ID
	})
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func walk(t *testing.T, s *CaseStore, f review.Filter, limit int) []string {
	t.Helper()
	out := []string{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("pagination does not end")
		}
		got, next, err := s.List(t.Context(), f, limit, cursor)
		if err != nil {
			t.Fatalf("List(%+v, cursor %q): %v", f, cursor, err)
		}
		if len(got) > limit {
			t.Fatalf("page of %d > limit %d", len(got), limit)
		}
		for _, c := range got {
			out = append(out, c.ID)
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

func wantStats(all map[string]review.Case) review.QueueStats {
	st := review.NewQueueStats()
	for _, c := range all {
		st.ByStatus[c.Status]++
		if !c.IsOpen() {
			continue
		}
		st.BySeverity[c.Severity]++
		st.ByDepartment[c.Department]++
		for _, r := range uniq(c.Rules()) {
			st.ByRule[r]++
		}
		for _, p := range uniq(c.Counterparties()) {
			st.ByCounterparty[p]++
		}
		m := caseMonth(toCaseDoc(c))
		if st.ByMonth[m] == nil {
			st.ByMonth[m] = map[string]int{}
		}
		st.ByMonth[m][c.Severity]++
	}
	return st
}

// The queue gives the same pages, in the same order, with the same
// cursors, and the same counts, whether it is served by queries or by
// facets, through creates, reviews, score changes and closings, with many
// ties and chunks that split and empty.
func TestQueueModesAnswerAlike(t *testing.T) {
	queueModes(t, func(t *testing.T, db *DB) {
		s := NewCaseStore(db)
		ctx := t.Context()
		r := rand.New(rand.NewPCG(7, 7))
		depts := []string{"R&D", "Sales", "EV"}
		rules := []string{detect.RuleExpense, detect.RuleUnapproved, detect.RuleBlackout}
		cps := []string{"GLG", "J.P. Morgan", "中信证券"}
		sevs := []string{"high", "medium", "low"}
		all := map[string]review.Case{}
		for i := range 160 {
			c := testCase(fmt.Sprintf("Z%03d", i), fmt.Sprintf("E%03d", i), depts[r.IntN(3)], sevs[r.IntN(3)], 10*r.IntN(4), rules[r.IntN(3)], cps[r.IntN(3)])
			c.Subject = fmt.Sprintf("S%d", i%7)
			if err := s.Create(ctx, c); err != nil {
				t.Fatal(err)
			}
			all[c.ID] = c
		}
		// Changes: some go in review, some change score and severity, some close.
		for i := 0; i < 160; i += 3 {
			id := fmt.Sprintf("Z%03d", i)
			c, err := s.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			switch i % 4 {
			case 0:
				c.Status = review.StatusInReview
			case 1:
				c.Score, c.Severity = c.Score+5, sevs[r.IntN(3)]
			case 2:
				if err := c.Decide("C1", review.StatusCleared, "approved", caseT0); err != nil {
					t.Fatal(err)
				}
			case 3:
				if err := c.Decide("C1", review.StatusConfirmed, "undeclared", caseT0); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Update(ctx, c); err != nil {
				t.Fatal(err)
			}
			c.Version++
			all[id] = c
		}
		for _, f := range []review.Filter{
			{},
			{Status: review.StatusOpen},
			{Status: review.StatusOpen, Severity: "high"},
			{Status: review.StatusInReview},
			{Status: review.StatusCleared},
			{Status: review.StatusConfirmed, Severity: "low"},
			{Severity: "medium"},
			{Status: review.StatusOpen, Department: "EV"},
			{Status: review.StatusOpen, Counterparty: "J.P. Morgan", Severity: "low"},
			{Rule: detect.RuleBlackout},
			{Status: "no-such-status"},
			{Subject: "S3"},
			{Status: review.StatusOpen, Subject: "S5"},
		} {
			want := wantList(all, f)
			for _, limit := range []int{7, 50} {
				if got := walk(t, s, f, limit); !reflect.DeepEqual(got, want) {
					t.Errorf("List(%+v) by %d = %v\nwant %v", f, limit, got, want)
				}
			}
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := wantStats(all); !reflect.DeepEqual(st, want) {
			t.Errorf("Stats = %+v\nwant %+v", st, want)
		}
		counts, err := s.Counts(ctx)
		if err != nil || !reflect.DeepEqual(counts, wantStats(all).ByStatus) {
			t.Errorf("Counts = %v, %v; want %v", counts, err, wantStats(all).ByStatus)
		}
		rows, truncated, err := s.Queue(ctx)
		if err != nil || truncated {
			t.Fatal(err, truncated)
		}
		var got []string
		for _, c := range rows {
			got = append(got, c.ID)
		}
		want := wantList(map[string]review.Case{}, review.Filter{})
		for _, id := range wantList(all, review.Filter{}) {
			if all[id].IsOpen() {
				want = append(want, id)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Queue = %v\nwant %v", got, want)
		}
	})
}

// A queue page on facets costs a few reads by _id whatever the number of
// cases: the facet documents and the chunks the page spans, never a query
// on another field.
func TestFacetQueuePageReadsByIDOnly(t *testing.T) {
	db, finds := monitoredDB(t)
	db.queueMode = queueByFacets
	s := NewCaseStore(db)
	ctx := t.Context()
	for i := range 300 {
		c := testCase(fmt.Sprintf("P%03d", i), fmt.Sprintf("E%03d", i), "R&D", "high", 40+i%3, detect.RuleExpense, "GLG")
		if err := s.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	var f facetDoc
	if err := db.DB.Collection(queueFacetsCollection).FindOne(ctx, bson.D{{Key: "_id", Value: facetID("open", "high")}}).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if f.N != 300 || len(f.Chunks) < 300/maxChunkEntries {
		t.Fatalf("facet open|high: n %d in %d chunks; want 300 in at least %d", f.N, len(f.Chunks), 300/maxChunkEntries)
	}
	finds()
	cursor := ""
	for page := range 3 {
		_, next, err := s.List(ctx, review.Filter{Status: review.StatusOpen, Severity: "high"}, 50, cursor)
		if err != nil {
			t.Fatal(err)
		}
		fs := finds()
		if len(fs) > 5 {
			t.Errorf("page %d: %d finds, want at most 5 (the facet and up to four chunks)", page, len(fs))
		}
		for _, c := range fs {
			if !filterIsByID(c) {
				t.Errorf("page %d: find not by _id: %s", page, c)
			}
		}
		cursor = next
	}
	if _, err := s.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	fs := finds()
	if len(fs) != len(facetStatuses)*len(facetSeverities) {
		t.Errorf("Stats: %d finds, want one per facet (%d)", len(fs), len(facetStatuses)*len(facetSeverities))
	}
	for _, c := range fs {
		if !filterIsByID(c) {
			t.Errorf("Stats: find not by _id: %s", c)
		}
	}
}

func filterIsByID(cmd bson.Raw) bool {
	f, ok := cmd.Lookup("filter").DocumentOK()
	if !ok {
		return false
	}
	es, err := f.Elements()
	return err == nil && len(es) == 1 && es[0].Key() == "_id" && es[0].Value().Type == bson.TypeString
}

// Two processes (two DB handles, so two placement locks) writing cases of
// one facet at once lose none: the claim of each facet version lets one
// writer through, the other retries on the new version.
func TestConcurrentPlacementsLoseNothing(t *testing.T) {
	base := newTestDB(t)
	base.queueMode = queueByFacets
	other := Use(base.DB.Client().Database(base.DB.Name()))
	other.queueMode = queueByFacets
	stores := []*CaseStore{NewCaseStore(base), NewCaseStore(other)}
	var wg sync.WaitGroup
	errs := make(chan error, 80)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				id := fmt.Sprintf("K%d%02d", w, i)
				if err := stores[w%2].Create(context.Background(), testCase(id, "E"+id, "R&D", "high", 50, detect.RuleExpense, "GLG")); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := walk(t, stores[0], review.Filter{Status: review.StatusOpen}, 50)
	if len(got) != 80 {
		t.Errorf("listed %d of 80 cases", len(got))
	}
	st, err := stores[1].Stats(t.Context())
	if err != nil || st.ByStatus[review.StatusOpen] != 80 || st.ByCounterparty["GLG"] != 80 {
		t.Errorf("Stats = %+v, %v; want 80 open", st, err)
	}
}

// Placing a case is idempotent and survives a stop half-way: replaying
// a version changes nothing, an older version is ignored, and a
// placement whose rows were never moved (the intent written, then a
// crash) is cleaned by the case's next change.
func TestFacetPlacementReplaysAndRecovers(t *testing.T) {
	db := newTestDB(t)
	db.queueMode = queueByFacets
	s := NewCaseStore(db)
	ctx := t.Context()
	c := testCase("R1", "E1", "R&D", "high", 70, detect.RuleExpense, "GLG")
	if err := s.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	d := toCaseDoc(c)
	d.Version = 1
	for range 2 {
		if err := s.facets.place(ctx, d); err != nil { // a replay of version 1
			t.Fatal(err)
		}
	}
	// A crash: version 2 (in review, score 80) written as intent only.
	d2 := d
	d2.Version, d2.Status, d2.Score = 2, review.StatusInReview, 80
	entry, err := toChunkEntry(d2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.facets.writePlace(ctx, placeDoc{ID: "R1", Version: 2, At: placement{Status: d2.Status, Severity: "high", Score: 80},
		Leaving: []placement{{Status: review.StatusOpen, Severity: "high", Score: 70}}}); err != nil {
		t.Fatal(err)
	}
	// ... whose move got as far as the target facet.
	if err := s.facets.change(ctx, facetID(review.StatusInReview, "high"), []facetOp{{caseID: "R1", add: &entry}}); err != nil {
		t.Fatal(err)
	}
	// Version 3 closes the case: it must leave both facets.
	d3 := d2
	d3.Version, d3.Status = 3, review.StatusCleared
	if err := s.facets.place(ctx, d3); err != nil {
		t.Fatal(err)
	}
	if err := s.facets.place(ctx, d2); err != nil { // late, older: ignored
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{review.StatusCleared: 1}; !reflect.DeepEqual(st.ByStatus, want) {
		t.Errorf("ByStatus = %v, want %v", st.ByStatus, want)
	}
	if got := walk(t, s, review.Filter{}, 10); !reflect.DeepEqual(got, []string{"R1"}) {
		t.Errorf("all cases = %v, want [R1] once", got)
	}
}

// A database with cases from before the facets gets them placed once at
// start.
func TestFacetBackfill(t *testing.T) {
	db := Use(testenv.Database(t))
	db.queueMode = queueByFacets
	ctx := t.Context()
	for i, st := range []string{review.StatusOpen, review.StatusCleared} {
		d := toCaseDoc(testCase(fmt.Sprintf("B%d", i), fmt.Sprintf("E%d", i), "R&D", "high", 70, detect.RuleExpense, "GLG"))
		d.Status, d.Version = st, 1
		if _, err := db.DB.Collection(casesCollection).InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := db.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st, err := NewCaseStore(db).Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{review.StatusOpen: 1, review.StatusCleared: 1}; !reflect.DeepEqual(st.ByStatus, want) {
		t.Errorf("ByStatus after backfill = %v, want %v", st.ByStatus, want)
	}
	if got := strings.Join(walk(t, NewCaseStore(db), review.Filter{Status: review.StatusOpen}, 10), ","); got != "B0" {
		t.Errorf("open after backfill = %q, want B0", got)
	}
}

// The queue's shape follows the server: facets on FerretDB and
// mongo-java-server (which answer sorted, filtered finds by scanning),
// the indexed query on MongoDB.
func TestQueueModeFollowsTheServer(t *testing.T) {
	db := newTestDB(t)
	var info bson.M
	if err := db.DB.RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatal(err)
	}
	_, ferret := info["ferretdbVersion"]
	_, git := info["gitVersion"]
	want := ferret || !git
	if got := db.queueByFacets(t.Context()); got != want {
		t.Errorf("queueByFacets = %v on %v, want %v", got, info, want)
	}
	if ferret && !db.queueByFacets(t.Context()) {
		t.Error("FerretDB must use the facets")
	}
}

// Bulk creation places its cases in one change per facet and answers
// like cases created one by one.
func TestCreateManyAnswersLikeCreate(t *testing.T) {
	queueModes(t, func(t *testing.T, db *DB) {
		s := NewCaseStore(db)
		ctx := t.Context()
		all := map[string]review.Case{}
		var cs []review.Case
		for i := range 120 {
			c := testCase(fmt.Sprintf("M%03d", i), fmt.Sprintf("E%03d", i), "R&D", []string{"high", "medium"}[i%2], 10*(i%5), detect.RuleExpense, "GLG")
			if i%3 == 0 {
				if err := c.Decide("C1", review.StatusCleared, "ok", caseT0); err != nil {
					t.Fatal(err)
				}
			}
			cs = append(cs, c)
			all[c.ID] = c
		}
		for range 2 { // a re-run changes nothing
			if err := s.CreateMany(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []review.Filter{{}, {Status: review.StatusOpen}, {Status: review.StatusOpen, Severity: "high"}, {Status: review.StatusCleared}} {
			if got, want := walk(t, s, f, 50), wantList(all, f); !reflect.DeepEqual(got, want) {
				t.Errorf("List(%+v) = %v\nwant %v", f, got, want)
			}
		}
		if st, err := s.Stats(ctx); err != nil || !reflect.DeepEqual(st, wantStats(all)) {
			t.Errorf("Stats = %+v, %v\nwant %+v", st, err, wantStats(all))
		}
		c, err := s.OpenFor(ctx, "E001")
		if err != nil || c.ID != "M001" || c.Version != 1 {
			t.Errorf("OpenFor(E001) = %s v%d, %v", c.ID, c.Version, err)
		}
	})
}
