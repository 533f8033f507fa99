package mongostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/notify"
)

// The export of the collections added with the launch workflow,
// notifications, the reviewer's day and unmasking (classify.go lists every
// collection). Notices are the subtle part:
//
//   - a notice about the employee (its employee_id, or a case of theirs, or
//     addressed to them with no other subject) is theirs, whoever received
//     it: exported whole, recipient included (a manager or reviewer is
//     named as an actor is in the audit log);
//   - a notice addressed to them about someone else (a report's
//     declaration sent to them as manager, a case assigned to them as
//     reviewer) is that person's: exported only as the fact that a notice
//     of that kind reached them, its id, parameters and text left out, and
//     the same for its deliveries and the demo sink's copy.

// noticeSubject is what decides whose a notice is.
type noticeSubject struct {
	ID        string            `bson:"_id"`
	Recipient string            `bson:"recipient"`
	Params    map[string]string `bson:"params"`
}

// about reports whether n is about employee id (whose cases are cases).
func (n noticeSubject) about(id string, cases []string) bool {
	if e := n.Params["employee_id"]; e != "" {
		return e == id
	}
	if c := n.Params["case_id"]; c != "" {
		return slices.Contains(cases, c)
	}
	return n.Recipient == id
}

// otherNoticeID stands for the id of a notice about someone else: its kind
// and a digest, so the export lists distinct notices without naming whom
// they were about.
func otherNoticeID(id string) string {
	kind, _, _ := strings.Cut(id, ":")
	h := sha256.Sum256([]byte(id))
	return kind + ":about-another-person:" + hex.EncodeToString(h[:6])
}

// peopleExportKeys reads what the sources below filter by: the employee's
// email, attestations, unmask requests and notices.
func (r *Rights) peopleExportKeys(ctx context.Context, employeeID string, keys *exportKeys) error {
	var e struct {
		Email string `bson:"email"`
	}
	if docs, err := findAll[struct {
		Email string `bson:"email"`
	}](ctx, r.db.DB.Collection(employeesCollection), bson.D{{Key: "_id", Value: employeeID}}); err != nil {
		return fmt.Errorf("export %s: email: %w", employeeID, err)
	} else if len(docs) > 0 {
		e = docs[0]
	}
	keys.email = e.Email
	for _, src := range []struct{ coll, prefix string }{{attestationsCollection, "attestation/"}, {unmaskRequestsCollection, "unmask/"}} {
		docs, err := findAll[idDoc](ctx, r.db.DB.Collection(src.coll), bson.D{{Key: "employee_id", Value: employeeID}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return fmt.Errorf("export %s: %s: %w", employeeID, src.coll, err)
		}
		for _, d := range docs {
			keys.resources = append(keys.resources, src.prefix+d.ID)
		}
	}
	ns, err := findAll[noticeSubject](ctx, r.db.DB.Collection(outboxCollection), noticesFilter(employeeID, *keys),
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "recipient", Value: 1}, {Key: "params", Value: 1}}))
	if err != nil {
		return fmt.Errorf("export %s: notices: %w", employeeID, err)
	}
	keys.notices, keys.otherNotices = map[string]bool{}, map[string]bool{}
	keys.noticesToOthers = map[string]bool{}
	for _, n := range ns {
		switch {
		case !n.about(employeeID, keys.cases) && n.Recipient != employeeID:
			continue // someone else's notice that merely names them
		case !n.about(employeeID, keys.cases):
			keys.otherNotices[n.ID] = true
		case n.Recipient != employeeID:
			keys.noticesToOthers[n.ID] = true
		}
		keys.notices[n.ID] = true
	}
	ds, err := findAll[deliveryDoc](ctx, r.db.DB.Collection(deliveriesCollection),
		bson.D{{Key: "notice_id", Value: bson.D{{Key: "$in", Value: nonNil(sortedKeysOf(keys.notices))}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "notice_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("export %s: deliveries: %w", employeeID, err)
	}
	keys.mails = map[string]string{}
	for _, d := range ds {
		keys.mails["notice-"+notify.IdempotencyKey(d.ID)] = d.NoticeID
	}
	return nil
}

// pseudonymPattern is how a pseudonym looks (internal/privacy).
var pseudonymPattern = regexp.MustCompile(`\bP-[0-9A-Z]{4}-[0-9A-Z]{4}\b`)

// noticesFilter selects the notices about the employee or addressed to
// them (redactKeys then sorts them).
func noticesFilter(id string, x exportKeys) bson.D {
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "recipient", Value: id}},
		bson.D{{Key: "params.employee_id", Value: id}},
		bson.D{{Key: "params.case_id", Value: bson.D{{Key: "$in", Value: nonNil(x.cases)}}}},
	}}}
}

func peopleExportSources() []exportSource {
	byID := func(id string, _ exportKeys) bson.D { return bson.D{{Key: "_id", Value: id}} }
	byField := func(f string) func(string, exportKeys) bson.D {
		return func(id string, _ exportKeys) bson.D { return bson.D{{Key: f, Value: id}} }
	}
	return []exportSource{
		{coll: attestationsCollection, filter: byField("employee_id")},
		{coll: attestRefsCollection, filter: byID},
		{coll: profilesCollection, filter: byID},
		{coll: uiProfilesCollection, filter: byID},
		{coll: savedFiltersCollection, filter: byField("user"), redact: func(_ string, d bson.D) bson.D {
			// A saved search may name the pseudonym of the person searched for.
			for _, e := range d {
				if q, ok := e.Value.(string); ok && e.Key == "query" {
					return setField(d, "query", pseudonymPattern.ReplaceAllString(q, "P-····-····"))
				}
			}
			return d
		}},
		// Requests to reveal who they are, with the requester and the
		// officer who decided (actors, as in the audit log); and the
		// requests they made as a reviewer, without whom they were about.
		{coll: unmaskRequestsCollection, filter: func(id string, _ exportKeys) bson.D {
			return bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "employee_id", Value: id}}, bson.D{{Key: "requester", Value: id}}}}}
		}, redact: func(id string, d bson.D) bson.D {
			if e, _ := rawOf(d, "employee_id").(string); e != id {
				return dropFields(d, "_id", "case_id", "employee_id", "subject")
			}
			return d
		}},
		// Their own unmask states as a reviewer: the states, not the cases
		// (those are about other people).
		{coll: unmaskStatesCollection, filter: byID, redact: func(_ string, d bson.D) bson.D {
			var states bson.A
			for _, e := range d {
				if m, ok := e.Value.(bson.D); ok && e.Key == "cases" {
					for _, c := range m {
						if st, ok := c.Value.(bson.D); ok {
							states = append(states, dropFields(st, "request"))
						}
					}
				}
			}
			if states == nil {
				states = bson.A{}
			}
			return bson.D{{Key: "_id", Value: rawOf(d, "_id")}, {Key: "states", Value: states}}
		}},
		{coll: outboxCollection, filter: noticesFilter, redactKeys: func(id string, x exportKeys, d bson.D) bson.D {
			var n noticeSubject
			if b, err := bson.Marshal(d); err == nil && bson.Unmarshal(b, &n) == nil && !n.about(id, x.cases) {
				if n.Recipient != id {
					return nil // another person's notice that merely names them (a list, say)
				}
				return keepFields(setField(d, "_id", otherNoticeID(n.ID)), "_id", "kind", "recipient", "created_at", "state")
			}
			return d
		}},
		{coll: deliveriesCollection, filter: func(_ string, x exportKeys) bson.D {
			return bson.D{{Key: "notice_id", Value: bson.D{{Key: "$in", Value: nonNil(sortedKeysOf(x.notices))}}}}
		}, redactKeys: func(_ string, x exportKeys, d bson.D) bson.D {
			if n, _ := rawOf(d, "notice_id").(string); x.otherNotices[n] {
				d = keepFields(d, "channel", "state", "attempts", "sent_at")
				return append(bson.D{{Key: "notice_id", Value: otherNoticeID(n)}}, d...)
			}
			n, _ := rawOf(d, "notice_id").(string)
			ch, _ := rawOf(d, "channel").(string)
			switch {
			case ch != "email": // a signed endpoint's URL is a secret, and the delivery's id holds it
				d = setField(setField(d, "target", "(webhook address)"), "_id", n+"|"+ch+":(webhook address)")
			case x.noticesToOthers[n]: // the recipient's own address
				d = setField(setField(d, "target", "(the recipient's address)"), "_id", n+"|"+ch+":(the recipient's address)")
			}
			return d
		}},
		// The demo's SMTP sink: the mails of their deliveries.
		{coll: mailSinkCollection, filter: func(_ string, x exportKeys) bson.D {
			var alts []string
			for k := range x.mails {
				alts = append(alts, regexp.QuoteMeta(k))
			}
			if len(alts) == 0 {
				return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}
			}
			slices.Sort(alts)
			return bson.D{{Key: "message_id", Value: bson.D{{Key: "$regex", Value: "^(" + strings.Join(alts, "|") + ")@"}}}}
		}, redactKeys: func(_ string, x exportKeys, d bson.D) bson.D {
			mid, _ := rawOf(d, "message_id").(string)
			key, _, _ := strings.Cut(mid, "@")
			switch n := x.mails[key]; {
			case x.otherNotices[n]:
				return keepFields(d, "_id", "to", "received_at")
			case x.noticesToOthers[n]:
				return setField(d, "to", bson.A{"(the recipient's address)"})
			}
			return d
		}},
		// The queue's projection on FerretDB and mongo-java-server: where
		// their cases are placed, and their rows in the chunks (a chunk holds
		// many people's rows: only theirs are exported, decoded).
		{coll: queuePlacesCollection, filter: func(_ string, x exportKeys) bson.D {
			return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: nonNil(x.cases)}}}}
		}},
		{coll: queueChunksCollection, filter: func(string, exportKeys) bson.D { return bson.D{} }, redactKeys: func(_ string, x exportKeys, d bson.D) bson.D {
			b, err := bson.Marshal(d)
			if err != nil {
				return nil
			}
			var c chunkDoc
			if bson.Unmarshal(b, &c) != nil {
				return nil
			}
			var rows bson.A
			for _, e := range c.Entries {
				if !slices.Contains(x.cases, e.ID) {
					continue
				}
				var row bson.D
				if bson.Unmarshal(e.Case, &row) == nil {
					rows = append(rows, row)
				}
			}
			if len(rows) == 0 {
				return nil
			}
			return bson.D{{Key: "_id", Value: c.ID}, {Key: "rows", Value: rows}}
		}},
		// The stored answer (their declaration as created) as text.
		{coll: idempotencyCollection, filter: byField("owner"), redact: func(_ string, d bson.D) bson.D {
			if b, ok := rawOf(d, "body").(bson.Binary); ok {
				return setField(d, "body", string(b.Data))
			}
			return d
		}},
	}
}

func rawOf(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

func keepFields(d bson.D, keys ...string) bson.D {
	out := make(bson.D, 0, len(keys))
	for _, e := range d {
		if slices.Contains(keys, e.Key) {
			out = append(out, e)
		}
	}
	return out
}
