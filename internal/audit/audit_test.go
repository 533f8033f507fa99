package audit

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func validEntry() Entry {
	return Entry{
		ID: NewID(), At: time.Date(2024, 3, 15, 9, 0, 0, 0, time.UTC),
		Actor: "C0001", ActorRoles: []string{"compliance"}, Action: ActionDisclosureDecide,
		ResourceType: ResourceDisclosure, ResourceID: "D1", OwnerID: "E1001", Reason: "fine",
		Details: map[string]string{"from": "pending", "to": "approved"}, RequestID: "req-1",
	}
}

func TestEntryValidate(t *testing.T) {
	tests := []struct {
		name string
		give func(*Entry)
		want string // substring of the error, "" for valid
	}{
		{name: "valid", give: func(*Entry) {}},
		{name: "minimal", give: func(e *Entry) { *e = Entry{ID: "x1", At: time.Unix(1, 0), Actor: SystemActor, Action: ActionRescan} }},
		{name: "no id", give: func(e *Entry) { e.ID = "" }, want: "id"},
		{name: "operator id", give: func(e *Entry) { e.ID = `{"$ne":null}` }, want: "id"},
		{name: "no time", give: func(e *Entry) { e.At = time.Time{} }, want: "at is required"},
		{name: "no actor", give: func(e *Entry) { e.Actor = "" }, want: "actor is required"},
		{name: "bad action", give: func(e *Entry) { e.Action = "Disclosure Decide" }, want: "action"},
		{name: "dollar detail key", give: func(e *Entry) { e.Details["$set"] = "x" }, want: "detail key"},
		{name: "dotted detail key", give: func(e *Entry) { e.Details["a.b"] = "x" }, want: "detail key"},
		{name: "long detail", give: func(e *Entry) { e.Details["note"] = strings.Repeat("x", 501) }, want: "detail note"},
		{name: "long reason", give: func(e *Entry) { e.Reason = strings.Repeat("x", 2001) }, want: "reason"},
		{name: "invalid UTF-8 owner", give: func(e *Entry) { e.OwnerID = "\xff" }, want: "owner_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEntry()
			tt.give(&e)
			err := e.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid)):
				t.Errorf("Validate = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestNeedsReadAudit(t *testing.T) {
	tests := []struct {
		owner, reader string
		want          bool
	}{
		{owner: "E1", reader: "E1", want: false},
		{owner: "E1", reader: "C1", want: true},
		{owner: "E1", reader: "", want: true},
	}
	for _, tt := range tests {
		if got := NeedsReadAudit(tt.owner, tt.reader); got != tt.want {
			t.Errorf("NeedsReadAudit(%q, %q) = %v, want %v", tt.owner, tt.reader, got, tt.want)
		}
	}
}

func TestCursor(t *testing.T) {
	at := time.Date(2024, 3, 15, 9, 0, 0, 7e6, time.UTC)
	gotAt, gotID, err := DecodeCursor(EncodeCursor(at, "id-1"))
	if err != nil || !gotAt.Equal(at) || gotID != "id-1" {
		t.Errorf("round trip = %v %q %v", gotAt, gotID, err)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, give := range []string{"", "%%%", b64("a1:x:id"), b64("d1:1:id"), b64("a1:1:"), b64(`a1:1:{"$gt":""}`),
		strings.Repeat("A", 600)} {
		if _, _, err := DecodeCursor(give); !errors.Is(err, ErrBadCursor) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrBadCursor", give, err)
		}
	}
}

func TestLimit(t *testing.T) {
	for _, tt := range []struct{ give, want int }{{0, DefaultLimit}, {-1, DefaultLimit}, {7, 7}, {MaxLimit + 1, MaxLimit}} {
		if got := Limit(tt.give); got != tt.want {
			t.Errorf("Limit(%d) = %d, want %d", tt.give, got, tt.want)
		}
	}
}
