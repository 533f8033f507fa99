package web

import (
	"testing"
	"time"
)

// TestPluralMessages: count messages take their form from the CLDR plural
// rules through golang.org/x/text/message; Chinese has one form.
func TestPluralMessages(t *testing.T) {
	n := newI18n(nil)
	en, zh := &n.langs[0], &n.langs[1]
	tests := []struct {
		lang *lang
		key  string
		give int
		want string
	}{
		{en, "count.findings", 1, "1 finding"},
		{en, "count.findings", 3, "3 findings"},
		{en, "count.findings", 0, "0 findings"},
		{en, "count.cases", 1, "1 case"},
		{en, "count.entries", 21, "21 entries"},
		{zh, "count.findings", 1, "1 项发现"},
		{zh, "count.findings", 3, "3 项发现"},
	}
	for _, tt := range tests {
		if got := tt.lang.T(tt.key, tt.give); got != tt.want {
			t.Errorf("%s %s(%d) = %q, want %q", tt.lang.Code, tt.key, tt.give, got, tt.want)
		}
	}
	// Messages with string arguments still format as before.
	if got := zh.T("tl.launch", "MS11"); got != "MS11 发布" {
		t.Errorf("tl.launch = %q", got)
	}
}

// TestZonedTime: an instant on the viewer's clock with the zone named, so
// 20:31 UTC never reads as a bare 04:31.
func TestZonedTime(t *testing.T) {
	at := time.Date(2024, 5, 2, 20, 31, 0, 0, time.UTC)
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	tests := []struct {
		zone *time.Location
		want string
	}{
		{load("Asia/Shanghai"), "2024-05-03 04:31 CST (Asia/Shanghai)"},
		{load("Europe/London"), "2024-05-02 21:31 BST (Europe/London)"},
		{load("America/New_York"), "2024-05-02 16:31 EDT (America/New_York)"},
		{time.UTC, "2024-05-02 20:31 UTC"},
	}
	for _, tt := range tests {
		if got := zonedTime(tt.zone)(at); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.zone, got, tt.want)
		}
	}
	if zonedTime(time.UTC)(time.Time{}) != "" {
		t.Error("a zero time shows")
	}
}
