package mongostore

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/rights"
)

// Rights implements rights.Store: an employee's events, and the export of
// every stored document about one employee for a subject-access request.
type Rights struct{ db *DB }

var _ rights.Store = (*Rights)(nil)

// NewRights returns the store on db.
func NewRights(db *DB) *Rights { return &Rights{db: db} }

// EventsOf implements rights.Store (the employee_type index serves it).
func (r *Rights) EventsOf(ctx context.Context, employeeID string, limit int) ([]rights.EventRecord, error) {
	docs, err := findAll[eventDoc](ctx, r.db.DB.Collection(eventsCollection), bson.D{{Key: "employee_id", Value: employeeID}},
		options.Find().SetProjection(bson.D{{Key: "raw", Value: 0}}).SetSort(bson.D{{Key: "received_at", Value: -1}, {Key: "_id", Value: -1}}).
			SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", employeeID, err)
	}
	out := make([]rights.EventRecord, len(docs))
	for i, d := range docs {
		out[i] = rights.EventRecord{Source: d.Source, ID: d.EventID, Type: d.Type, Topic: d.Topic, Time: d.Time.UTC(), ReceivedAt: d.ReceivedAt.UTC()}
	}
	return out, nil
}

// exportSource is one collection of the export: the documents about the
// employee, and what to take out of each (a secret, other people's ids).
type exportSource struct {
	coll   string
	filter func(id string, x exportKeys) bson.D
	redact func(id string, d bson.D) bson.D
	// redactKeys is redact for sources that need the keys; a nil result
	// leaves the document out.
	redactKeys func(id string, x exportKeys, d bson.D) bson.D
}

// exportKeys are the ids the other sources' filters need (the employee's
// cases and declarations), read first.
type exportKeys struct {
	cases, resources []string
	email            string
	// notices exported: about them or addressed to them; of those, the
	// ones addressed to them about someone else, and the ones about them
	// addressed to someone else.
	notices, otherNotices, noticesToOthers map[string]bool
	// mails maps the Message-ID (before "@") of each delivery of those
	// notices to its notice.
	mails map[string]string
}

// exportSources lists every collection that holds data about an employee;
// a new collection about people is one entry here. Collections about
// nobody in particular (seminars, rule versions, hourly counters, leases)
// are not exported. Documents about others that merely mention the
// employee (someone else's HR record naming them as manager) are not
// theirs and are left out.
func exportSources() []exportSource {
	byID := func(id string, _ exportKeys) bson.D { return bson.D{{Key: "_id", Value: id}} }
	byField := func(f string) func(string, exportKeys) bson.D {
		return func(id string, _ exportKeys) bson.D { return bson.D{{Key: f, Value: id}} }
	}
	sources := []exportSource{
		{coll: employeesCollection, filter: byID},
		{coll: eventsCollection, filter: byField("employee_id")},
		{coll: activityCollection, filter: byID},
		{coll: counterpartyMonthsCollection, filter: byField("employees"), redact: func(id string, d bson.D) bson.D {
			return setField(d, "employees", bson.A{id}) // the bucket's other employees are not this one's data
		}},
		{coll: presenceDaysCollection, filter: func(id string, _ exportKeys) bson.D {
			// Their payment and leave days ("at:…:<id>", "leave:…:<id>"), and the
			// function and seniority keys that list them (others left out).
			// A scan of the collection: exports are rare.
			return bson.D{{Key: "$or", Value: bson.A{
				bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^(at|leave):.*:" + regexp.QuoteMeta(id) + "$"}}}},
				bson.D{{Key: "employees", Value: id}},
			}}}
		}, redact: func(id string, d bson.D) bson.D {
			for _, e := range d {
				if e.Key == "employees" {
					return setField(d, "employees", bson.A{id})
				}
			}
			return d
		}},
		{coll: disclosuresCollection, filter: byField("employee_id")},
		{coll: reevaluationsCollection, filter: byField("employee_id")},
		{coll: casesCollection, filter: byField("employee_id")},
		{coll: caseQueueCollection, filter: byField("employee_id")},
		{coll: caseRefsCollection, filter: byID},
		{coll: commentsCollection, filter: func(_ string, x exportKeys) bson.D {
			return bson.D{{Key: "case_id", Value: bson.D{{Key: "$in", Value: nonNil(x.cases)}}}}
		}},
		{coll: transitionsCollection, filter: func(_ string, x exportKeys) bson.D {
			return bson.D{{Key: "resource", Value: bson.D{{Key: "$in", Value: nonNil(x.resources)}}}}
		}},
		{coll: auditCollection, filter: func(id string, _ exportKeys) bson.D {
			// Entries about them, and their own acts that concern nobody else.
			return bson.D{{Key: "$or", Value: bson.A{
				bson.D{{Key: "owner_id", Value: id}},
				bson.D{{Key: "actor", Value: id}, {Key: "owner_id", Value: bson.D{{Key: "$exists", Value: false}}}},
			}}}
		}},
		{coll: sessionsCollection, filter: byField("subject"), redact: func(_ string, d bson.D) bson.D {
			// The _id is the hash of a live sign-in token; csrf is a secret.
			return dropFields(d, "_id", "csrf")
		}},
		{coll: reviewersCollection, filter: byID},
	}
	return append(sources, peopleExportSources()...)
}

// Export implements rights.Store.
func (r *Rights) Export(ctx context.Context, employeeID string) ([]rights.Collection, error) {
	var keys exportKeys
	for _, src := range []struct {
		coll, prefix string
		into         *[]string
	}{{casesCollection, "case/", &keys.cases}, {disclosuresCollection, "disclosure/", nil}} {
		docs, err := findAll[idDoc](ctx, r.db.DB.Collection(src.coll), bson.D{{Key: "employee_id", Value: employeeID}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("export %s: %s: %w", employeeID, src.coll, err)
		}
		for _, d := range docs {
			if src.into != nil {
				*src.into = append(*src.into, d.ID)
			}
			keys.resources = append(keys.resources, src.prefix+d.ID)
		}
	}
	if err := r.peopleExportKeys(ctx, employeeID, &keys); err != nil {
		return nil, err
	}
	var out []rights.Collection
	for _, s := range exportSources() {
		docs, err := findAll[bson.D](ctx, r.db.DB.Collection(s.coll), s.filter(employeeID, keys), options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return nil, fmt.Errorf("export %s: %s: %w", employeeID, s.coll, err)
		}
		c := rights.Collection{Name: s.coll, Documents: make([]json.RawMessage, 0, len(docs))}
		for _, d := range docs {
			if s.redact != nil {
				d = s.redact(employeeID, d)
			}
			if s.redactKeys != nil {
				if d = s.redactKeys(employeeID, keys, d); d == nil {
					continue
				}
			}
			b, err := bson.MarshalExtJSON(d, false, false)
			if err != nil {
				return nil, fmt.Errorf("export %s: %s document: %w", employeeID, s.coll, err)
			}
			c.Documents = append(c.Documents, json.RawMessage(b))
		}
		out = append(out, c)
	}
	return out, nil
}

func setField(d bson.D, key string, v any) bson.D {
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		if e.Key == key {
			e.Value = v
		}
		out = append(out, e)
	}
	return out
}

func dropFields(d bson.D, keys ...string) bson.D {
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		drop := false
		for _, k := range keys {
			drop = drop || e.Key == k
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}
