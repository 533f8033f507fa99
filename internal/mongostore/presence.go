package mongostore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/event"
)

// Presence for seminar-speaker-match, read only by exact _id (the one
// filter FerretDB serves by index; a range or any other filter scans its
// collection there, seconds for ten thousand entries).
//
// presence_days indexes what a seminar report arriving at any time needs to
// find the people it may be about, and what a payment needs to find the
// seminars it may corroborate:
//
//   - "at:<city key>:<date>:<employee>" {s, id, c}: the employee paid in the
//     city that day (every expense claim and card payment naming a city; the
//     first payment of the day names the event);
//   - "leave:<date>:<employee>": the employee was on leave that day;
//   - "fit:fn:<function>", "fit:sen:<level>" {employees}: who has that
//     function or seniority in their HR record (detect.SpeakerKeys), so a
//     report's descriptors name their candidates;
//   - "sem:<YYYY-MM>" {seminars: [...]}: seminars with speaker descriptors
//     held that month (rare: intelligence reports).
//
// Payments are frequent, so their entries are small documents inserted in one
// InsertMany per batch: a duplicate key is a redelivery (or a second payment
// that day) and adds nothing, and no document grows with the payments. HR
// changes and reports, both rare, update the few fit and sem documents.
//
// An employee's corroborating payments (those near a seminar whose
// descriptors fit them) are kept on their activity document (field
// presence), read together with their signals.
const presenceDaysCollection = "presence_days"

type presenceEntry struct {
	ID      string `bson:"_id"`
	Source  string `bson:"s,omitempty"`
	EventID string `bson:"id,omitempty"`
	City    string `bson:"c,omitempty"`
	// Date is the day of the _id, for the retention purge's range (purge.go).
	Date string `bson:"d,omitempty"`
}

type presenceIndexDoc struct {
	ID        string       `bson:"_id"`
	Employees []string     `bson:"employees,omitempty"`
	Seminars  []seminarDoc `bson:"seminars,omitempty"`
}

// presenceDoc is one kept payment on an activity document.
type presenceDoc struct {
	Source  string `bson:"source"`
	EventID string `bson:"id"`
	Date    string `bson:"date"`
	City    string `bson:"city"`
}

var _ evaluate.PresenceStore = (*SignalStore)(nil)

func paidKey(cityKey string, d civil.Date, employeeID string) string {
	return "at:" + cityKey + ":" + string(d) + ":" + employeeID
}
func leaveKey(d civil.Date, employeeID string) string { return "leave:" + string(d) + ":" + employeeID }
func speakerKey(d civil.Date) string                  { return "sem:" + string(d)[:7] }
func fitKey(k string) string                          { return "fit:" + k }

// IndexPresence implements evaluate.PresenceStore. Entries this process
// stored lately are left out: an insert with a single duplicate _id makes
// FerretDB roll the whole batch back and insert its documents one by one,
// one transaction each (measured: 460 entries, 40 ms fresh, 110 ms with one
// duplicate), and a payment's day and city often repeat one the previous
// batch indexed. Leaving out an entry that exists changes nothing; one
// another replica stored, or one redelivered after a restart, is still a
// duplicate, which the insert skips as before.
func (s *SignalStore) IndexPresence(ctx context.Context, paid []evaluate.Paid, leave map[string][]civil.Date) error {
	seen := map[string]bool{}
	var docs []any
	var ids []string
	add := func(e presenceEntry) {
		if seen[e.ID] || s.indexed.has(e.ID) {
			return
		}
		seen[e.ID] = true
		docs, ids = append(docs, e), append(ids, e.ID)
	}
	for _, p := range paid {
		ck := detect.CityKey(p.Presence.City)
		if ck == "" || p.Presence.Date.IsZero() {
			continue
		}
		add(presenceEntry{ID: paidKey(ck, p.Presence.Date, p.EmployeeID), Source: p.Presence.Ref.Source, EventID: p.Presence.Ref.ID,
			City: p.Presence.City, Date: string(p.Presence.Date)})
	}
	for emp, days := range leave {
		for _, d := range days {
			add(presenceEntry{ID: leaveKey(d, emp), Date: string(d)})
		}
	}
	if len(docs) == 0 {
		return nil
	}
	_, err := s.db.DB.Collection(presenceDaysCollection).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("index %d presence entries: %w", len(docs), err)
	}
	s.indexed.add(ids)
	return nil
}

// recentPresenceIDs bounds the presence entries a process remembers having
// stored: two generations of this many ids (~4 MB), about 40 batches of
// payments.
const recentPresenceIDs = 20000

// recentIDs remembers ids stored lately, in two generations: when the
// newer one is full the older is dropped, so memory stays bounded and the
// ids of the last batches are kept. Safe for concurrent use.
type recentIDs struct {
	mu       sync.Mutex
	limit    int
	cur, old map[string]struct{}
}

func newRecentIDs(limit int) *recentIDs {
	return &recentIDs{limit: limit, cur: map[string]struct{}{}}
}

func (r *recentIDs) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cur[id]; ok {
		return true
	}
	_, ok := r.old[id]
	return ok
}

func (r *recentIDs) add(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if len(r.cur) >= r.limit {
			r.old, r.cur = r.cur, make(map[string]struct{}, r.limit)
		}
		r.cur[id] = struct{}{}
	}
}

// IndexSpeakerSeminars implements evaluate.PresenceStore.
func (s *SignalStore) IndexSpeakerSeminars(ctx context.Context, ss []detect.Seminar) error {
	byKey := map[string]bson.A{}
	for _, sm := range ss {
		if len(sm.Descriptors) == 0 || sm.Date.IsZero() {
			continue
		}
		k := speakerKey(sm.Date)
		byKey[k] = append(byKey[k], toSeminarDoc(sm))
	}
	models := make([]mongo.WriteModel, 0, len(byKey))
	for k, docs := range byKey {
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: k}}).SetUpsert(true).
			SetUpdate(bson.D{{Key: "$addToSet", Value: bson.D{{Key: "seminars", Value: bson.D{{Key: "$each", Value: docs}}}}}}))
	}
	if err := bulkWriteChunked(ctx, s.db.DB.Collection(presenceDaysCollection), models); err != nil {
		return fmt.Errorf("index %d speaker seminars: %w", len(ss), err)
	}
	return nil
}

// SpeakerSeminarsOn implements evaluate.PresenceStore.
func (s *SignalStore) SpeakerSeminarsOn(ctx context.Context, days []civil.Date) ([]detect.Seminar, error) {
	want := map[civil.Date]bool{}
	seen := map[string]bool{}
	var keys []string
	for _, d := range days {
		want[d] = true
		if k := speakerKey(d); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	docs, err := byIDs[presenceIndexDoc](ctx, s.db, s.db.DB.Collection(presenceDaysCollection), keys)
	if err != nil {
		return nil, fmt.Errorf("speaker seminars of %d months: %w", len(keys), err)
	}
	var out []detect.Seminar
	for _, d := range docs {
		for _, sd := range d.Seminars {
			if want[civil.Date(sd.Date)] {
				out = append(out, fromSeminarDoc(sd))
			}
		}
	}
	return out, nil
}

// IndexSpeakerKeys implements evaluate.PresenceStore.
func (s *SignalStore) IndexSpeakerKeys(ctx context.Context, keys map[string][]string) error {
	ks := make([]string, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	models := make([]mongo.WriteModel, 0, len(ks))
	for _, k := range ks {
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: fitKey(k)}}).SetUpsert(true).
			SetUpdate(bson.D{{Key: "$addToSet", Value: bson.D{{Key: "employees", Value: bson.D{{Key: "$each", Value: keys[k]}}}}}}))
	}
	if err := bulkWriteChunked(ctx, s.db.DB.Collection(presenceDaysCollection), models); err != nil {
		return fmt.Errorf("index %d speaker keys: %w", len(ks), err)
	}
	return nil
}

// SpeakerCandidates implements evaluate.PresenceStore.
func (s *SignalStore) SpeakerCandidates(ctx context.Context, keys []string) (map[string][]string, error) {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = fitKey(k)
	}
	docs, err := byIDs[presenceIndexDoc](ctx, s.db, s.db.DB.Collection(presenceDaysCollection), ids)
	if err != nil {
		return nil, fmt.Errorf("speaker candidates of %d keys: %w", len(keys), err)
	}
	out := make(map[string][]string, len(docs))
	for _, d := range docs {
		out[strings.TrimPrefix(d.ID, "fit:")] = d.Employees
	}
	return out, nil
}

// PresentAt implements evaluate.PresenceStore.
func (s *SignalStore) PresentAt(ctx context.Context, city string, paidOn []civil.Date, leaveOn civil.Date, employees []string) ([]evaluate.Paid, []string, error) {
	ck := detect.CityKey(city)
	type want struct {
		employee string
		date     civil.Date
		leave    bool
	}
	wanted := map[string]want{}
	var keys []string
	for _, e := range employees {
		if ck != "" {
			for _, d := range paidOn {
				k := paidKey(ck, d, e)
				wanted[k] = want{e, d, false}
				keys = append(keys, k)
			}
		}
		if !leaveOn.IsZero() {
			k := leaveKey(leaveOn, e)
			wanted[k] = want{e, leaveOn, true}
			keys = append(keys, k)
		}
	}
	docs, err := byIDs[presenceEntry](ctx, s.db, s.db.DB.Collection(presenceDaysCollection), keys)
	if err != nil {
		return nil, nil, fmt.Errorf("presence of %d employees in %s: %w", len(employees), city, err)
	}
	var paid []evaluate.Paid
	var onLeave []string
	for _, d := range docs {
		w, ok := wanted[d.ID]
		switch {
		case !ok:
		case w.leave:
			onLeave = append(onLeave, w.employee)
		default:
			paid = append(paid, evaluate.Paid{EmployeeID: w.employee, Presence: detect.Presence{
				Ref: event.Ref{Source: d.Source, ID: d.EventID}, Date: w.date, City: d.City}})
		}
	}
	sort.Slice(paid, func(i, j int) bool {
		if paid[i].EmployeeID != paid[j].EmployeeID {
			return paid[i].EmployeeID < paid[j].EmployeeID
		}
		return paid[i].Presence.Date < paid[j].Presence.Date
	})
	sort.Strings(onLeave)
	return paid, onLeave, nil
}

// AddPresence implements evaluate.SignalStore.
func (s *SignalStore) AddPresence(ctx context.Context, employeeID string, ps []detect.Presence) error {
	docs := make(bson.A, 0, len(ps))
	for _, p := range ps {
		docs = append(docs, presenceDoc{Source: p.Ref.Source, EventID: p.Ref.ID, Date: string(p.Date), City: p.City})
	}
	_, err := s.activity.UpdateOne(ctx, bson.D{{Key: "_id", Value: employeeID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "presence", Value: bson.D{{Key: "$each", Value: docs}}}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("add %d presence of %s: %w", len(ps), employeeID, err)
	}
	return nil
}

// ActivityOf implements evaluate.SignalStore: signals and kept presence of
// ids, one document each, read by _id.
func (s *SignalStore) ActivityOf(ctx context.Context, ids []string) (map[string]evaluate.Activity, error) {
	out := make(map[string]evaluate.Activity, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	docs, err := byIDs[activityDoc](ctx, s.db, s.activity, ids)
	if err != nil {
		return nil, fmt.Errorf("activity of %d employees: %w", len(ids), err)
	}
	for _, d := range docs {
		a := evaluate.Activity{Signals: fromActivityDoc(d)}
		for _, p := range d.Presence {
			a.Presence = append(a.Presence, detect.Presence{Ref: event.Ref{Source: p.Source, ID: p.EventID}, Date: civil.Date(p.Date), City: p.City})
		}
		out[d.ID] = a
	}
	return out, nil
}
