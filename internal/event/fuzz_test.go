package event

import (
	"reflect"
	"testing"
	"time"
)

// FuzzDecode: Decode never panics, and every event it accepts re-encodes to an event that
// decodes to the same Ref, Type, Subject, Time and Data.
func FuzzDecode(f *testing.F) {
	for _, typ := range Types {
		raw := build(f, typ, nil)
		if _, err := Decode(raw); err != nil {
			f.Fatalf("seed %s: %v", typ, err) // else the property below is never exercised
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"specversion":"1.0","id":"x","source":"y","type":"nope","data":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := Decode(raw)
		if err != nil {
			if !IsBadEvent(err) {
				t.Fatalf("error %v is not a DecodeError", err)
			}
			return
		}
		if _, ok := TypeOf(e.Data); !ok {
			t.Fatalf("Data %T", e.Data)
		}
		enc, err := Encode(e)
		if err != nil {
			t.Fatalf("Encode of an accepted event: %v", err)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(e)): %v\n%s", err, enc)
		}
		if again.Ref != e.Ref || again.Type != e.Type || again.Subject != e.Subject || !again.Time.Equal(e.Time) {
			t.Fatalf("envelope changed: %+v\nwas %+v", again, e)
		}
		if !sameData(again.Data, e.Data) {
			t.Fatalf("data changed: %+v\nwas %+v", again.Data, e.Data)
		}
	})
}

// sameData compares data, instants by Equal: an instant keeps its offset, but its
// *time.Location differs from parse to parse.
func sameData(a, b any) bool {
	if x, ok := a.(*CardTransaction); ok {
		y, ok := b.(*CardTransaction)
		if !ok || !x.OccurredAt.Equal(y.OccurredAt) || offset(x.OccurredAt) != offset(y.OccurredAt) {
			return false
		}
		xc, yc := *x, *y
		xc.OccurredAt, yc.OccurredAt = time.Time{}, time.Time{}
		return reflect.DeepEqual(xc, yc)
	}
	return reflect.DeepEqual(a, b)
}
