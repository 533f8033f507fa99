package mongostore

import (
	"slices"

	lru "github.com/hashicorp/golang-lru/v2"
)

// chunkCacheSize bounds the queue chunks kept in memory per database
// handle: 256 chunks of at most maxChunkEntries rows (a few KiB each) are a
// few MiB and hold the first pages of every facet a queue view reads.
const chunkCacheSize = 256

// Queue chunks are immutable: a change writes new chunks under fresh ids and
// points the facet's next version at them (queuefacets.go), so a chunk read
// once is the same on every later read and a cache of chunks by id can never
// serve a stale row, on any replica. That makes the queue page one facet read
// (which says which chunks are current) plus chunk reads only for chunks this
// process has not seen, instead of two to four reads of the largest
// documents of the queue per page (the bench's top commands:
// find/queue_chunks was over half of the queue's database time).
//
// Anything that changes the rows of a chunk — a purge included — must write
// a new chunk under a new id, never rewrite one in place.
func (d *DB) chunkCache() *lru.Cache[string, chunkDoc] {
	d.chunkOnce.Do(func() {
		d.chunks, _ = lru.New[string, chunkDoc](chunkCacheSize) // only a size ≤ 0 fails
		d.rows, _ = lru.New[string, []caseDoc](chunkCacheSize)
	})
	return d.chunks
}

// cachedChunk returns a copy of a cached chunk (callers change the slice of
// entries they get when they build the next chunks).
func (d *DB) cachedChunk(id string) (chunkDoc, bool) {
	c, ok := d.chunkCache().Get(id)
	if !ok {
		return chunkDoc{}, false
	}
	c.Entries = slices.Clone(c.Entries)
	return c, true
}

func (d *DB) cacheChunk(c chunkDoc) {
	c.Entries = slices.Clone(c.Entries)
	d.chunkCache().Add(c.ID, c)
}

// Decoding a page's 50 rows from their BSON was half of the service's CPU
// per queue page (bench profile: chunkEntry.caseDoc, 2 of 4 ms), so the
// rows of a chunk are kept decoded too, by the same immutable chunk id.
// Readers must not change what they get: the documents are shared (the
// list converts them with fromCaseDoc, which copies).
func (d *DB) rowCache() *lru.Cache[string, []caseDoc] {
	d.chunkOnce.Do(func() {
		d.chunks, _ = lru.New[string, chunkDoc](chunkCacheSize)
		d.rows, _ = lru.New[string, []caseDoc](chunkCacheSize)
	})
	return d.rows
}

// chunkRows returns the decoded rows of c, aligned with c.Entries.
func (d *DB) chunkRows(c chunkDoc) ([]caseDoc, error) {
	if rows, ok := d.rowCache().Get(c.ID); ok && len(rows) == len(c.Entries) {
		return rows, nil
	}
	rows := make([]caseDoc, len(c.Entries))
	for i, e := range c.Entries {
		r, err := e.caseDoc()
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	d.rowCache().Add(c.ID, rows)
	return rows, nil
}
