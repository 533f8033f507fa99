package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/review"
)

// The queue's search (issue 14). The fields every queue row indexes
// (status, severity, department, rules, counterparties, employee, subject) are in
// the query; the rest (assignee, project, pseudonym, opened date) are
// matched here on the decoded rows, reading the sorted rows in chunks
// until a page is full or searchScanMax rows were read, so one request
// stays bounded. To serve them by index too, the queue row needs
// `assignee`, `projects` and `opened_at` fields (and the cases collection
// indexes on them). The pseudonym is a stored field of the case (subject),
// in the query.

// searchChunk is how many rows one read of the search takes.
const searchChunk = 500

// searchScanMax bounds the rows one search request reads; a page that
// stops there still gives a cursor, so the reader goes on.
const searchScanMax = 20000

// indexedFilter is the part of f the query serves.
func indexedFilter(f review.Filter) bson.D {
	filter := bson.D{}
	for _, c := range []struct{ key, value string }{
		{"status", f.Status}, {"severity", f.Severity}, {"employee_id", f.EmployeeID},
		{"department", f.Department}, {"rules", f.Rule}, {"counterparties", f.Counterparty}, {"subject", f.Subject},
	} {
		if c.value != "" {
			filter = append(filter, bson.E{Key: c.key, Value: c.value})
		}
	}
	if f.Status == "" && len(f.Statuses) > 0 {
		filter = append(filter, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: f.Statuses}}})
	}
	return filter
}

// search is List for an extended filter: indexed part in the query, the
// rest by review.Filter.Match, highest score first, then newest id.
func (s *CaseStore) search(ctx context.Context, f review.Filter, limit int, cursor string) ([]review.Case, string, error) {
	find, coll := findAll[caseDoc], s.coll
	if f.OnlyActive() && f.Subject == "" {
		// The queue rows hold no pseudonym: a search by it reads the cases.
		find, coll = findQueue, s.queue
	}
	var out []review.Case
	scanned := 0
	after := cursor
	for {
		filter := indexedFilter(f)
		if after != "" {
			score, id, err := decodeCaseCursor(after)
			if err != nil {
				return nil, "", err
			}
			filter = append(filter, bson.E{Key: "$or", Value: bson.A{
				bson.D{{Key: "score", Value: bson.D{{Key: "$lt", Value: score}}}},
				bson.D{{Key: "score", Value: score}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: id}}}},
			}})
		}
		docs, err := find(ctx, coll, filter, options.Find().
			SetSort(bson.D{{Key: "score", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(searchChunk))
		if err != nil {
			return nil, "", fmt.Errorf("search cases: %w", err)
		}
		for _, d := range docs {
			c := fromCaseDoc(d)
			if !f.Match(c) {
				continue
			}
			if len(out) == limit {
				// A further match exists: the page ends at the last one kept.
				last := out[len(out)-1]
				return out, encodeCaseCursor(last.Score, last.ID), nil
			}
			out = append(out, c)
		}
		scanned += len(docs)
		if len(docs) < searchChunk {
			return out, "", nil
		}
		last := docs[len(docs)-1]
		after = encodeCaseCursor(last.Score, last.ID)
		if scanned >= searchScanMax {
			// Bounded: the page may be short; the cursor goes on from here.
			return out, after, nil
		}
	}
}

// Count implements review.Store: the matches of f, counting at most max.
// Without the search's fields the database counts; with them the rows are
// matched as search does, bounded by max matches and searchScanMax rows.
func (s *CaseStore) Count(ctx context.Context, f review.Filter, max int) (int, error) {
	if s.db.queueByFacets(ctx) {
		return s.countByPages(ctx, f, max)
	}
	coll := s.coll
	if f.OnlyActive() && f.Subject == "" {
		coll = s.queue
	}
	if !f.Extended() || f.OnlyActive() && onlyIndexed(f) {
		n, err := coll.CountDocuments(ctx, indexedFilter(f), options.Count().SetLimit(int64(max)))
		if err != nil {
			return 0, fmt.Errorf("count cases: %w", err)
		}
		return int(n), nil
	}
	return s.countByPages(ctx, f, max)
}

// countByPages counts the matches of f by listing them, at most max.
func (s *CaseStore) countByPages(ctx context.Context, f review.Filter, max int) (int, error) {
	n, cursor := 0, ""
	for {
		page, next, err := s.List(ctx, f, review.MaxLimit, cursor)
		if err != nil {
			return 0, err
		}
		n += len(page)
		if n >= max {
			return max, nil
		}
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}

// onlyIndexed reports whether f filters by nothing but fields the query
// serves (Statuses included).
func onlyIndexed(f review.Filter) bool {
	g := f
	g.Statuses = nil
	return !g.Extended()
}
