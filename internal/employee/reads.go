package employee

import (
	"context"
	"sync"
)

// Reads remembers the employees read and written while one consumed batch
// is handled, so its stages (the HR projection, attestations, corroboration,
// evaluation) read each employee once instead of once per stage: on the
// bench that was 57 reads by _id per batch, most of them of the same few
// employees. A store honours it when the context carries one (WithReads):
// Get and GetMany answer from it and read only the ids it lacks; every
// write puts what it stored (Remember), or, when the store cannot know the
// stored state, drops the id (Forget), so a later stage sees the batch's
// own HR changes.
//
// What another replica writes meanwhile is not seen by the rest of the
// batch; it was not seen before either by a stage that had already read, and
// that replica re-evaluates the employees it changed after its own write.
// The zero value is not usable; a nil *Reads remembers nothing.
type Reads struct {
	mu sync.Mutex
	m  map[string]read
}

type read struct {
	e     Employee
	found bool
}

type readsKey struct{}

// WithReads returns ctx carrying a new, empty Reads for one batch.
func WithReads(ctx context.Context) context.Context {
	return context.WithValue(ctx, readsKey{}, &Reads{m: map[string]read{}})
}

// ReadsFrom returns the Reads ctx carries, or nil.
func ReadsFrom(ctx context.Context) *Reads {
	r, _ := ctx.Value(readsKey{}).(*Reads)
	return r
}

// Lookup returns what is known of id: the employee and whether it exists
// (known false: ask the store).
func (r *Reads) Lookup(id string) (e Employee, found, known bool) {
	if r == nil {
		return Employee{}, false, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.m[id]
	return x.e, x.found, ok
}

// Remember records e as stored (a read or a write that knows the result).
func (r *Reads) Remember(e Employee) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[e.ID] = read{e: e, found: true}
}

// RememberMissing records that no employee id is stored.
func (r *Reads) RememberMissing(id string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[id] = read{}
}

// Forget drops what is known of id: the next read asks the store.
func (r *Reads) Forget(id string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, id)
}
