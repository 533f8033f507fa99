package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// The queue by facets: how servers that cannot serve the queue's filter and
// sort from an index (FerretDB scans every query but {_id}; mongo-java-server
// sorts in memory) still answer a queue page, the counts and the dashboard
// in a few reads by _id, whatever the number of cases (issue 12).
//
// Every case belongs to one facet, its (status, severity). A facet is one
// small versioned document (queue_facets) holding the facet's counts (total,
// by department, rule, counterparty and month) and the ordered list of its
// chunks; a chunk (queue_chunks) holds up to maxChunkEntries consecutive
// queue rows of the facet in queue order (score descending, then id
// descending), each the case without history and comments. Chunks are never
// changed: a change writes new chunks under fresh ids, then moves the facet
// document to its next version pointing at them, then deletes the old ones.
// So a reader that reads a facet document and then its chunks by _id sees
// one consistent state (a chunk gone in between makes it read again).
//
// Concurrent writers of one facet are decided like every versioned change
// here: the writer whose insert of "<facet>:<version>" into queue_claims
// succeeds is the only one to write the next version (FerretDB's filtered
// updates are not atomic; an insert with a unique _id is). A loser deletes
// the chunks it wrote and tries again from a fresh read. Counts are
// recomputed from the entries a change adds and removes, never incremented
// blindly, so replaying a change is harmless.
//
// queue_places records, per case, the version and facet it was last placed
// in, so that the next change knows what to remove. Within one process all
// placements are serialised (facetMu); two processes placing the same case
// at the same moment can leave its older row behind until its next change
// (the demo runs one process; production runs on MongoDB, where none of
// this is used). A crash between a case write and its placement leaves the
// queue one version behind until the case's next change, as before.

const (
	queueFacetsCollection = "queue_facets"
	queueChunksCollection = "queue_chunks"
	queueClaimsCollection = "queue_claims"
	queuePlacesCollection = "queue_places"
	// facetBackfillMarker is the queue_facets document saying the facets
	// were filled from the cases stored before them.
	facetBackfillMarker = "~backfilled-v1"
	// maxChunkEntries is where a chunk splits in two; a page of 50 spans at
	// most four chunks, and a chunk stays small to rewrite and decode
	// (FerretDB parses the whole JSON of every document it returns).
	maxChunkEntries = 32
	// facetAttempts bounds the retries of one facet change under contention.
	facetAttempts = 60
	// facetClaimGrace is how old a claim whose facet never moved must be
	// before another writer takes the version over (its writer stopped).
	facetClaimGrace = 30 * time.Second
	// backfillBatch is how many cases one bulk placement takes.
	backfillBatch = 500
)

// The facets a listing without status or severity merges. A new status or
// severity must be added here to appear in such listings (it is counted and
// listed by its own facet either way).
var (
	facetStatuses   = []string{review.StatusOpen, review.StatusInReview, review.StatusCleared, review.StatusConfirmed}
	facetSeverities = []string{detect.SeverityHigh, detect.SeverityMedium, detect.SeverityLow, ""}
)

func facetID(status, severity string) string { return status + "|" + severity }

// countDoc is one count of a facet (BSON field names cannot hold every
// department or counterparty name, so counts are lists).
type countDoc struct {
	K string `bson:"k"`
	N int    `bson:"n"`
}

type facetDoc struct {
	ID             string     `bson:"_id"`
	Version        int64      `bson:"version"`
	N              int        `bson:"n"`
	Departments    []countDoc `bson:"departments"`
	Rules          []countDoc `bson:"rules"`
	Counterparties []countDoc `bson:"counterparties"`
	Months         []countDoc `bson:"months"`
	Chunks         []chunkRef `bson:"chunks"`
}

// chunkRef names a chunk and its last (lowest) entry's key.
type chunkRef struct {
	ID      string `bson:"id"`
	LoScore int    `bson:"lo_score"`
	LoID    string `bson:"lo_id"`
	N       int    `bson:"n"`
}

type chunkDoc struct {
	ID      string       `bson:"_id"`
	Entries []chunkEntry `bson:"entries"`
}

// chunkEntry is one queue row: the sort key, the case's version and the
// case without history and comments (one BSON blob: cheap to decode).
type chunkEntry struct {
	Score   int    `bson:"s"`
	ID      string `bson:"i"`
	Version int64  `bson:"v"`
	Case    []byte `bson:"c"`
}

// placeDoc is where a case is placed: its target facet and key, and, until
// Done, the placements it is leaving (a crash between writing the intent
// and moving the rows leaves them listed for the next change to clean).
type placeDoc struct {
	ID      string      `bson:"_id"`
	Version int64       `bson:"version"`
	At      placement   `bson:"at"`
	Leaving []placement `bson:"leaving,omitempty"`
	Done    bool        `bson:"done"`
}

type placement struct {
	Status   string `bson:"status"`
	Severity string `bson:"severity"`
	Score    int    `bson:"score"`
}

func (p placement) facet() string { return facetID(p.Status, p.Severity) }

type facetClaimDoc struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// key orders entries: a before b in the queue.
type key struct {
	score int
	id    string
}

func (a key) before(b key) bool { return a.score > b.score || a.score == b.score && a.id > b.id }

func (e chunkEntry) key() key { return key{e.Score, e.ID} }
func (r chunkRef) lo() key    { return key{r.LoScore, r.LoID} }

// facets is the facet queue of one database.
type facets struct {
	db                         *DB
	facets, chunks, claims, pl *mongo.Collection
	now                        func() time.Time
}

func newFacets(db *DB) *facets {
	return &facets{db: db, facets: db.DB.Collection(queueFacetsCollection), chunks: db.DB.Collection(queueChunksCollection),
		claims: db.DB.Collection(queueClaimsCollection), pl: db.DB.Collection(queuePlacesCollection), now: time.Now}
}

// place makes the facets match case d just written: its row leaves the
// facets of its earlier placements and enters the one of its status and
// severity. A version older than the one placed is ignored.
func (q *facets) place(ctx context.Context, d caseDoc) error {
	return q.placeMany(ctx, []caseDoc{d})
}

// facetOp is one case's change within one facet: its row leaves (found
// at one of keys) and, when add is set, add enters.
type facetOp struct {
	caseID string
	keys   []key
	add    *chunkEntry
	// same lets add replace a row of the same version (a field set on the
	// case without a version change: BackfillSubjects).
	same bool
}

// placeMany is place for many cases at once: one change per facet
// touched, whatever the number of cases (the start-up backfill, bulk
// seeding). ds must name distinct cases.
func (q *facets) placeMany(ctx context.Context, ds []caseDoc) error {
	q.db.facetMu.Lock()
	defer q.db.facetMu.Unlock()
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	prevs, err := byIDs[placeDoc](ctx, q.db, q.pl, ids)
	if err != nil {
		return fmt.Errorf("placements of %d cases: %w", len(ds), err)
	}
	prevOf := make(map[string]placeDoc, len(prevs))
	for _, p := range prevs {
		prevOf[p.ID] = p
	}
	ops := map[string][]facetOp{} // facet -> its ops
	var order []string            // facets in first-touched order
	addOp := func(f string, op facetOp) {
		if _, ok := ops[f]; !ok {
			order = append(order, f)
		}
		ops[f] = append(ops[f], op)
	}
	var intents []placeDoc
	var fresh []any // placements of cases never placed: one insert
	for _, d := range ds {
		prev, had := prevOf[d.ID]
		if had && prev.Version >= d.Version {
			continue
		}
		entry, err := toChunkEntry(d)
		if err != nil {
			return err
		}
		target := placement{Status: d.Status, Severity: d.Severity, Score: d.Score}
		intent := placeDoc{ID: d.ID, Version: d.Version, At: target}
		if had {
			if !prev.Done {
				intent.Leaving = append(intent.Leaving, prev.Leaving...)
			}
			intent.Leaving = append(intent.Leaving, prev.At)
		}
		if len(intent.Leaving) > 0 {
			// The intent first, so a crash below leaves what to clean up.
			if err := q.writePlace(ctx, intent); err != nil {
				return err
			}
		}
		keys := map[string][]key{} // facet -> where the case's row may be
		var left []string
		for _, p := range intent.Leaving {
			if _, ok := keys[p.facet()]; !ok && p.facet() != target.facet() {
				left = append(left, p.facet())
			}
			keys[p.facet()] = append(keys[p.facet()], key{p.Score, d.ID})
		}
		for _, f := range left {
			addOp(f, facetOp{caseID: d.ID, keys: keys[f]})
		}
		addOp(target.facet(), facetOp{caseID: d.ID, keys: keys[target.facet()], add: &entry})
		intent.Leaving, intent.Done = nil, true
		if had {
			intents = append(intents, intent)
		} else {
			fresh = append(fresh, intent)
		}
	}
	for _, f := range order {
		if err := q.change(ctx, f, ops[f]); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		if _, err := q.pl.InsertMany(ctx, fresh, options.InsertMany().SetOrdered(false)); err != nil {
			if !onlyDuplicates(err) {
				return fmt.Errorf("placements of %d cases: %w", len(fresh), err)
			}
			// Placed meanwhile by another process: write ours by _id (the
			// rows are where this change put them).
			for _, p := range fresh {
				intents = append(intents, p.(placeDoc))
			}
		}
	}
	for _, p := range intents {
		if err := q.writePlace(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (q *facets) writePlace(ctx context.Context, p placeDoc) error {
	if _, err := q.pl.ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.ID}}, p, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("placement of case %s: %w", p.ID, err)
	}
	return nil
}

func toChunkEntry(d caseDoc) (chunkEntry, error) {
	d.History, d.Comments = nil, nil
	b, err := bson.Marshal(d)
	if err != nil {
		return chunkEntry{}, fmt.Errorf("queue row of %s: %w", d.ID, err)
	}
	return chunkEntry{Score: d.Score, ID: d.ID, Version: d.Version, Case: b}, nil
}

func (e chunkEntry) caseDoc() (caseDoc, error) {
	var d caseDoc
	if err := bson.Unmarshal(e.Case, &d); err != nil {
		return caseDoc{}, fmt.Errorf("queue row %s: %w", e.ID, err)
	}
	return d, nil
}

// change applies ops to facet id, retrying while other writers win.
func (q *facets) change(ctx context.Context, id string, ops []facetOp) error {
	for attempt := 0; attempt < facetAttempts; attempt++ {
		done, err := q.tryChange(ctx, id, ops)
		if err != nil && !errors.Is(err, errChunkGone) || done {
			return err
		}
		time.Sleep(time.Duration(1+attempt%8) * time.Millisecond)
	}
	return fmt.Errorf("queue facet %s: %d attempts lost to concurrent changes: %w", id, facetAttempts, review.ErrConflict)
}

// chunkAt is the index of the chunk a key falls in (len(refs) past the end).
func chunkAt(refs []chunkRef, k key) int {
	return sort.Search(len(refs), func(i int) bool { return !refs[i].lo().before(k) })
}

// tryChange makes one attempt; done is false when another writer won.
func (q *facets) tryChange(ctx context.Context, id string, ops []facetOp) (done bool, err error) {
	f, err := q.readFacet(ctx, id)
	if err != nil {
		return false, err
	}
	refs := slices.Clone(f.Chunks)
	loaded := map[int][]chunkEntry{} // chunk index -> its entries
	touched := map[int]bool{}
	entriesOf := func(i int) ([]chunkEntry, error) {
		if es, ok := loaded[i]; ok {
			return es, nil
		}
		c, err := q.readChunk(ctx, refs[i].ID)
		if err != nil {
			return nil, err
		}
		loaded[i] = c.Entries
		return c.Entries, nil
	}
	// where finds the case's row among keys: chunk index and position.
	where := func(caseID string, keys []key) (int, int, error) {
		for _, k := range keys {
			i := chunkAt(refs, k)
			if i == len(refs) {
				continue
			}
			es, err := entriesOf(i)
			if err != nil {
				return -1, -1, err
			}
			if j := slices.IndexFunc(es, func(e chunkEntry) bool { return e.ID == caseID }); j >= 0 {
				return i, j, nil
			}
		}
		return -1, -1, nil
	}
	var removed, added []chunkEntry
	for _, op := range ops {
		keys := op.keys
		if op.add != nil {
			keys = append(slices.Clone(keys), op.add.key()) // a replay of this very change
		}
		i, j, err := where(op.caseID, keys)
		if err != nil {
			return false, err
		}
		if i >= 0 {
			es := loaded[i]
			if op.add != nil && (es[j].Version > op.add.Version || es[j].Version == op.add.Version && !op.same) {
				continue // this or a newer row is already there
			}
			removed = append(removed, es[j])
			loaded[i], touched[i] = slices.Delete(slices.Clone(es), j, j+1), true
		}
		if op.add != nil {
			added = append(added, *op.add)
		}
	}
	for _, a := range added {
		i := min(chunkAt(refs, a.key()), len(refs)-1)
		if i < 0 {
			refs = append(refs, chunkRef{})
			i, loaded[0] = 0, nil
		}
		es, err := entriesOf(i)
		if err != nil {
			return false, err
		}
		at := sort.Search(len(es), func(j int) bool { return !es[j].key().before(a.key()) })
		loaded[i], touched[i] = slices.Insert(slices.Clone(es), at, a), true
	}
	if len(touched) == 0 {
		return true, nil // nothing to change
	}
	// New chunks for the touched ones (split when too long, none when empty).
	var (
		next    []chunkRef
		written []chunkDoc
		dropped []string
	)
	for i, r := range refs {
		if !touched[i] {
			next = append(next, r)
			continue
		}
		if r.ID != "" {
			dropped = append(dropped, r.ID)
		}
		for _, part := range splitEntries(loaded[i]) {
			c := chunkDoc{ID: newChunkID(), Entries: part}
			written = append(written, c)
			last := part[len(part)-1]
			next = append(next, chunkRef{ID: c.ID, LoScore: last.Score, LoID: last.ID, N: len(part)})
		}
	}
	nf := *f
	nf.Version, nf.Chunks = f.Version+1, next
	if nf.Chunks == nil {
		nf.Chunks = []chunkRef{}
	}
	for _, e := range removed {
		if err := nf.count(e, -1); err != nil {
			return false, err
		}
	}
	for _, e := range added {
		if err := nf.count(e, +1); err != nil {
			return false, err
		}
	}
	for start := 0; start < len(written); start += 100 {
		part := written[start:min(start+100, len(written))]
		docs := make([]any, len(part))
		for i := range part {
			docs[i] = part[i]
		}
		if _, err := q.chunks.InsertMany(ctx, docs); err != nil {
			q.deleteChunks(ctx, written)
			return false, fmt.Errorf("queue facet %s: write chunks: %w", id, err)
		}
	}
	won, err := q.claim(ctx, f)
	if err == nil && won {
		err = q.writeFacet(ctx, nf)
	}
	if err != nil || !won {
		q.deleteChunks(ctx, written)
		return false, err
	}
	for _, c := range written {
		q.db.cacheChunk(c) // the facet points at them now: the next page needs no read
	}
	for _, c := range dropped {
		_, _ = q.chunks.DeleteOne(ctx, bson.D{{Key: "_id", Value: c}}) // otherwise garbage, never read
	}
	return true, nil
}

// splitEntries cuts a chunk's entries into chunks of at most
// maxChunkEntries, evenly (one change adds one row, so a full chunk splits
// in halves; a bulk change may add many).
func splitEntries(es []chunkEntry) [][]chunkEntry {
	if len(es) == 0 {
		return nil
	}
	n := (len(es) + maxChunkEntries - 1) / maxChunkEntries
	var out [][]chunkEntry
	for i := range n {
		out = append(out, es[i*len(es)/n:(i+1)*len(es)/n])
	}
	return out
}

func newChunkID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// count adds (sign +1) or removes (-1) one row's facts to the facet's counts.
func (f *facetDoc) count(e chunkEntry, sign int) error {
	d, err := e.caseDoc()
	if err != nil {
		return err
	}
	f.N += sign
	f.Departments = addCount(f.Departments, d.Department, sign)
	for _, r := range uniq(d.Rules) {
		f.Rules = addCount(f.Rules, r, sign)
	}
	for _, c := range uniq(d.Counterparties) {
		f.Counterparties = addCount(f.Counterparties, c, sign)
	}
	f.Months = addCount(f.Months, caseMonth(d), sign)
	return nil
}

// caseMonth is the month of a case's earliest finding (when the conduct
// happened), else of its opening (UTC).
func caseMonth(d caseDoc) string {
	earliest := ""
	for _, f := range d.Findings {
		if f.OccurredOn != "" && (earliest == "" || f.OccurredOn < earliest) {
			earliest = f.OccurredOn
		}
	}
	if len(earliest) >= 7 {
		return earliest[:7]
	}
	return d.OpenedAt.UTC().Format("2006-01")
}

func uniq(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

func addCount(cs []countDoc, k string, sign int) []countDoc {
	i := slices.IndexFunc(cs, func(c countDoc) bool { return c.K == k })
	if i < 0 {
		if sign < 0 {
			return cs
		}
		return append(cs, countDoc{K: k, N: sign})
	}
	cs = slices.Clone(cs)
	cs[i].N += sign
	if cs[i].N <= 0 {
		cs = slices.Delete(cs, i, i+1)
	}
	return cs
}

func (q *facets) readFacet(ctx context.Context, id string) (*facetDoc, error) {
	var f facetDoc
	err := q.facets.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&f)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &facetDoc{ID: id}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue facet %s: %w", id, err)
	}
	return &f, nil
}

// errChunkGone says a chunk was replaced between the facet read and its
// own: the reader reads the facet again.
var errChunkGone = errors.New("queue chunk replaced meanwhile")

func (q *facets) readChunk(ctx context.Context, id string) (chunkDoc, error) {
	if c, ok := q.db.cachedChunk(id); ok {
		return c, nil
	}
	var c chunkDoc
	err := q.chunks.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return chunkDoc{}, errChunkGone
	}
	if err != nil {
		return chunkDoc{}, fmt.Errorf("queue chunk %s: %w", id, err)
	}
	q.db.cacheChunk(c)
	return c, nil
}

// claim inserts the claim of f's next version; false when another writer
// holds it. A claim older than facetClaimGrace whose facet is still at that
// version belongs to a writer that stopped: it is removed and claimed anew.
func (q *facets) claim(ctx context.Context, f *facetDoc) (bool, error) {
	id := transitionID("facet/"+f.ID, f.Version)
	_, err := q.claims.InsertOne(ctx, facetClaimDoc{ID: id, At: storedTime(q.now())})
	if err == nil {
		return true, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return false, fmt.Errorf("claim %s: %w", id, err)
	}
	var c facetClaimDoc
	if err := q.claims.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c); err != nil || q.now().Sub(c.At) < facetClaimGrace {
		return false, nil
	}
	cur, err := q.readFacet(ctx, f.ID)
	if err != nil || cur.Version != f.Version {
		return false, nil
	}
	_, _ = q.claims.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return false, nil // the next attempt claims it
}

// writeFacet writes the claimed next version. The claim made this writer
// the only one for it, so the replace is by _id alone (FerretDB would scan
// for {_id, version}).
func (q *facets) writeFacet(ctx context.Context, f facetDoc) error {
	if _, err := q.facets.ReplaceOne(ctx, bson.D{{Key: "_id", Value: f.ID}}, f, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("queue facet %s: %w", f.ID, err)
	}
	return nil
}

func (q *facets) deleteChunks(ctx context.Context, cs []chunkDoc) {
	for _, c := range cs {
		_, _ = q.chunks.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: c.ID}})
	}
}

// facetCursor walks one facet's rows in queue order from a starting key.
type facetCursor struct {
	q     *facets
	refs  []chunkRef
	next  int // next chunk to read
	buf   []chunkEntry
	rows  []caseDoc // buf's rows, decoded
	after *key
}

func (q *facets) cursor(f *facetDoc, after *key) *facetCursor {
	c := &facetCursor{q: q, refs: f.Chunks, after: after}
	if after != nil {
		// The first chunk whose lowest row comes after the cursor.
		c.next = sort.Search(len(c.refs), func(i int) bool { return after.before(c.refs[i].lo()) })
	}
	return c
}

// peek returns the cursor's next row without consuming it.
func (c *facetCursor) peek(ctx context.Context) (*chunkEntry, error) {
	for len(c.buf) == 0 {
		if c.next >= len(c.refs) {
			return nil, nil
		}
		ch, err := c.q.readChunk(ctx, c.refs[c.next].ID)
		if err != nil {
			return nil, err
		}
		rows, err := c.q.db.chunkRows(ch)
		if err != nil {
			return nil, err
		}
		c.next++
		c.buf, c.rows = ch.Entries, rows
		if c.after != nil {
			i := sort.Search(len(c.buf), func(i int) bool { return c.after.before(c.buf[i].key()) })
			c.buf, c.rows = c.buf[i:], c.rows[i:]
		}
	}
	return &c.buf[0], nil
}

// list returns up to limit+1 rows of the facets, merged in queue order,
// after the cursor key, that keep says to keep.
func (q *facets) list(ctx context.Context, ids []string, after *key, limit int, keep func(caseDoc) bool) ([]caseDoc, error) {
	for attempt := 0; ; attempt++ {
		out, err := q.listOnce(ctx, ids, after, limit, keep)
		if errors.Is(err, errChunkGone) && attempt < 10 {
			continue
		}
		return out, err
	}
}

func (q *facets) listOnce(ctx context.Context, ids []string, after *key, limit int, keep func(caseDoc) bool) ([]caseDoc, error) {
	var curs []*facetCursor
	for _, id := range ids {
		f, err := q.readFacet(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(f.Chunks) > 0 {
			curs = append(curs, q.cursor(f, after))
		}
	}
	var out []caseDoc
	for len(out) <= limit {
		best := -1
		var be *chunkEntry
		for i, c := range curs {
			e, err := c.peek(ctx)
			if err != nil {
				return nil, err
			}
			if e != nil && (be == nil || e.key().before(be.key())) {
				best, be = i, e
			}
		}
		if best < 0 {
			break
		}
		d := curs[best].rows[0]
		curs[best].buf, curs[best].rows = curs[best].buf[1:], curs[best].rows[1:]
		if keep == nil || keep(d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// stats sums the counts of every facet: one read by _id per facet.
func (q *facets) stats(ctx context.Context) (review.QueueStats, error) {
	st := review.NewQueueStats()
	for _, status := range facetStatuses {
		for _, sev := range facetSeverities {
			f, err := q.readFacet(ctx, facetID(status, sev))
			if err != nil {
				return review.QueueStats{}, err
			}
			if f.N == 0 {
				continue
			}
			st.ByStatus[status] += f.N
			if !queued(status) {
				continue
			}
			st.BySeverity[sev] += f.N
			for _, c := range f.Departments {
				st.ByDepartment[c.K] += c.N
			}
			for _, c := range f.Rules {
				st.ByRule[c.K] += c.N
			}
			for _, c := range f.Counterparties {
				st.ByCounterparty[c.K] += c.N
			}
			for _, c := range f.Months {
				if st.ByMonth[c.K] == nil {
					st.ByMonth[c.K] = map[string]int{}
				}
				st.ByMonth[c.K][sev] += c.N
			}
		}
	}
	return st, nil
}

// facetsFor are the facets a filter's status and severity select.
func facetsFor(status, severity string) []string {
	statuses, sevs := facetStatuses, facetSeverities
	if status != "" {
		statuses = []string{status}
	}
	if severity != "" {
		sevs = []string{severity}
	}
	var out []string
	for _, s := range statuses {
		for _, v := range sevs {
			out = append(out, facetID(s, v))
		}
	}
	return out
}

// backfillFacets places the cases stored before the facets existed, once
// per database (a marker says it ran). Running it twice places the same.
func backfillFacets(ctx context.Context, d *DB) error {
	q := newFacets(d)
	err := q.facets.FindOne(ctx, bson.D{{Key: "_id", Value: facetBackfillMarker}}).Err()
	if err == nil {
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("queue facets marker: %w", err)
	}
	cur, err := d.DB.Collection(casesCollection).Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("backfill queue facets: %w", err)
	}
	defer cur.Close(ctx)
	var batch []caseDoc
	for cur.Next(ctx) {
		var c caseDoc
		if err := cur.Decode(&c); err != nil {
			return fmt.Errorf("backfill queue facets: %w", err)
		}
		if batch = append(batch, c); len(batch) == backfillBatch {
			if err := q.placeMany(ctx, batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("backfill queue facets: %w", err)
	}
	if err := q.placeMany(ctx, batch); err != nil {
		return err
	}
	if _, err := q.facets.InsertOne(ctx, bson.D{{Key: "_id", Value: facetBackfillMarker}}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("queue facets marker: %w", err)
	}
	return nil
}

// Chunks and the chunk lists of facets are stored as parallel arrays of
// scalars: FerretDB decodes an array of documents field by field against
// a schema, and arrays of strings, numbers and binaries several times
// faster (the cost of every facet change and page is mostly decoding).
type chunkStored struct {
	ID string   `bson:"_id"`
	S  []int    `bson:"s"`
	I  []string `bson:"i"`
	V  []int64  `bson:"v"`
	C  [][]byte `bson:"c"`
}

// MarshalBSON stores the chunk as parallel arrays.
func (c chunkDoc) MarshalBSON() ([]byte, error) {
	st := chunkStored{ID: c.ID, S: make([]int, len(c.Entries)), I: make([]string, len(c.Entries)),
		V: make([]int64, len(c.Entries)), C: make([][]byte, len(c.Entries))}
	for i, e := range c.Entries {
		st.S[i], st.I[i], st.V[i], st.C[i] = e.Score, e.ID, e.Version, e.Case
	}
	return bson.Marshal(st)
}

// UnmarshalBSON reads a chunk stored by MarshalBSON.
func (c *chunkDoc) UnmarshalBSON(b []byte) error {
	var st chunkStored
	if err := bson.Unmarshal(b, &st); err != nil {
		return err
	}
	if len(st.I) != len(st.S) || len(st.V) != len(st.S) || len(st.C) != len(st.S) {
		return fmt.Errorf("queue chunk %s: arrays of unequal length", st.ID)
	}
	c.ID, c.Entries = st.ID, make([]chunkEntry, len(st.S))
	for i := range st.S {
		c.Entries[i] = chunkEntry{Score: st.S[i], ID: st.I[i], Version: st.V[i], Case: st.C[i]}
	}
	return nil
}

type facetStored struct {
	ID             string     `bson:"_id"`
	Version        int64      `bson:"version"`
	N              int        `bson:"n"`
	Departments    []countDoc `bson:"departments"`
	Rules          []countDoc `bson:"rules"`
	Counterparties []countDoc `bson:"counterparties"`
	Months         []countDoc `bson:"months"`
	ChunkIDs       []string   `bson:"chunk_ids"`
	LoScores       []int      `bson:"lo_scores"`
	LoIDs          []string   `bson:"lo_ids"`
	Ns             []int      `bson:"ns"`
}

// MarshalBSON stores the facet's chunk list as parallel arrays.
func (f facetDoc) MarshalBSON() ([]byte, error) {
	st := facetStored{ID: f.ID, Version: f.Version, N: f.N, Departments: nonNilCounts(f.Departments), Rules: nonNilCounts(f.Rules),
		Counterparties: nonNilCounts(f.Counterparties), Months: nonNilCounts(f.Months),
		ChunkIDs: make([]string, len(f.Chunks)), LoScores: make([]int, len(f.Chunks)), LoIDs: make([]string, len(f.Chunks)), Ns: make([]int, len(f.Chunks))}
	for i, r := range f.Chunks {
		st.ChunkIDs[i], st.LoScores[i], st.LoIDs[i], st.Ns[i] = r.ID, r.LoScore, r.LoID, r.N
	}
	return bson.Marshal(st)
}

// UnmarshalBSON reads a facet stored by MarshalBSON.
func (f *facetDoc) UnmarshalBSON(b []byte) error {
	var st facetStored
	if err := bson.Unmarshal(b, &st); err != nil {
		return err
	}
	n := len(st.ChunkIDs)
	if len(st.LoScores) != n || len(st.LoIDs) != n || len(st.Ns) != n {
		return fmt.Errorf("queue facet %s: arrays of unequal length", st.ID)
	}
	*f = facetDoc{ID: st.ID, Version: st.Version, N: st.N, Departments: st.Departments, Rules: st.Rules,
		Counterparties: st.Counterparties, Months: st.Months, Chunks: make([]chunkRef, n)}
	for i := range n {
		f.Chunks[i] = chunkRef{ID: st.ChunkIDs[i], LoScore: st.LoScores[i], LoID: st.LoIDs[i], N: st.Ns[i]}
	}
	return nil
}

func nonNilCounts(cs []countDoc) []countDoc {
	if cs == nil {
		return []countDoc{}
	}
	return cs
}

// refresh rewrites the row of case d, already placed at d's version, with
// d (a field changed without a version change).
func (q *facets) refresh(ctx context.Context, d caseDoc) error {
	q.db.facetMu.Lock()
	defer q.db.facetMu.Unlock()
	entry, err := toChunkEntry(d)
	if err != nil {
		return err
	}
	return q.change(ctx, facetID(d.Status, d.Severity), []facetOp{{caseID: d.ID, keys: []key{entry.key()}, add: &entry, same: true}})
}
