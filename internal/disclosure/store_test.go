package disclosure

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2024, 3, 15, 9, 30, 0, 123e6, time.UTC)
	gotAt, gotID, err := DecodeCursor(EncodeCursor(at, "0190f0c2-aaaa-7bbb-8ccc-123456789abc"))
	if err != nil || !gotAt.Equal(at) || gotID != "0190f0c2-aaaa-7bbb-8ccc-123456789abc" {
		t.Errorf("round trip = %v, %q, %v", gotAt, gotID, err)
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, give := range []string{
		"", "not base64!", b64("d1:abc:D1"), b64("d2:1:D1"), b64("d1:1"), b64(`d1:1:{"$ne":null}`), b64("d1:1:"),
	} {
		if _, _, err := DecodeCursor(give); !errors.Is(err, ErrBadCursor) {
			t.Errorf("DecodeCursor(%q) err = %v, want ErrBadCursor", give, err)
		}
	}
}

func TestPageSize(t *testing.T) {
	for _, tt := range []struct{ give, want int }{{0, DefaultLimit}, {-3, DefaultLimit}, {10, 10}, {MaxLimit + 1, MaxLimit}} {
		if got := (Page{Limit: tt.give}).Size(); got != tt.want {
			t.Errorf("Page{%d}.Size() = %d, want %d", tt.give, got, tt.want)
		}
	}
}
