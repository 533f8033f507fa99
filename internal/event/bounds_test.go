package event

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The contract's bounds (events.md "Bounds"), for every kind of field they cover.
func TestDecodeBounds(t *testing.T) {
	received := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	set := func(k string, v any) func(env, data map[string]any) {
		return func(_, data map[string]any) { data[k] = v }
	}
	items := func(n int, s string) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	long := func(n int) string { return strings.Repeat("長", n) } // characters, not bytes
	tests := []struct {
		name       string
		typ        string
		edit       func(env, data map[string]any)
		wantReason string // "" = accepted
		wantDetail string
	}{
		{"date on the earliest day", TypeExpenseClaim, set("incurred_on", "1990-01-01"), "", ""},
		{"date before 1990", TypeExpenseClaim, set("incurred_on", "1989-12-31"), ReasonDateOutOfRange, "/data/incurred_on: before 1990-01-01"},
		{"date 9999-12-31", TypeExpenseClaim, set("incurred_on", "9999-12-31"), ReasonDateOutOfRange, "/data/incurred_on: more than 2 years after receipt"},
		{"date two years after receipt", TypeExpenseClaim, set("incurred_on", "2028-12-01"), "", ""},
		{"date two years and a day after receipt", TypeExpenseClaim, set("incurred_on", "2028-12-02"), ReasonDateOutOfRange, "/data/incurred_on"},
		{"hire date in 1970", TypeEmployeeHired, set("hire_date", "1970-01-01"), ReasonDateOutOfRange, "/data/hire_date"},
		{"leave end far ahead", TypeLeaveRecorded, set("end_date", "2099-01-01"), ReasonDateOutOfRange, "/data/end_date"},
		{"seminar date far ahead", TypeSeminarReported, set("date", "3000-01-01"), ReasonDateOutOfRange, "/data/date"},
		{"launch date 9 years ahead", TypeProjectAssigned, set("launch_date", "2035-06-01"), "", ""},
		{"launch date 11 years ahead", TypeProjectAssigned, set("launch_date", "2037-12-02"), ReasonDateOutOfRange, "/data/launch_date: more than 10 years after receipt"},
		{"effective date 3 years ahead", TypeProjectAssigned, set("effective_date", "2029-12-02"), ReasonDateOutOfRange, "/data/effective_date"},
		{"instant before 1990", TypeCardTransaction, set("occurred_at", "1989-12-31T23:59:59Z"), ReasonDateOutOfRange, "/data/occurred_at"},
		{"instant 1990 in Beijing is 1989 in UTC", TypeCardTransaction, set("occurred_at", "1990-01-01T07:00:00+08:00"), ReasonDateOutOfRange, "/data/occurred_at"},
		{"instant year 9999", TypeCardTransaction, set("occurred_at", "9999-12-31T23:59:59Z"), ReasonDateOutOfRange, "/data/occurred_at"},
		{"envelope time year 9999", TypeExpenseClaim, func(env, _ map[string]any) { env["time"] = "9999-12-31T00:00:00Z" }, ReasonDateOutOfRange, "/time: more than 2 years"},

		{"merchant of 256 characters", TypeExpenseClaim, set("merchant", long(256)), "", ""},
		{"merchant of 257 characters", TypeExpenseClaim, set("merchant", long(257)), ReasonFieldTooLong, "/data/merchant: longer than 256 characters"},
		{"organizer too long", TypeSeminarReported, set("organizer", long(257)), ReasonFieldTooLong, "/data/organizer"},
		{"seminar title too long", TypeSeminarReported, set("title", long(257)), ReasonFieldTooLong, "/data/title"},
		{"name too long", TypeEmployeeHired, set("name", long(257)), ReasonFieldTooLong, "/data/name"},
		{"job title too long", TypeEmployeeHired, set("title", long(257)), ReasonFieldTooLong, "/data/title"},
		{"department too long", TypeEmployeeHired, set("department", long(257)), ReasonFieldTooLong, "/data/department"},
		{"updated department too long", TypeEmployeeUpdated, set("department", long(257)), ReasonFieldTooLong, "/data/department"},
		{"updated name too long", TypeEmployeeUpdated, set("name", long(257)), ReasonFieldTooLong, "/data/name"},
		{"project name too long", TypeProjectAssigned, set("project_name", long(257)), ReasonFieldTooLong, "/data/project_name"},
		{"card merchant too long", TypeCardTransaction, set("merchant", long(257)), ReasonFieldTooLong, "/data/merchant"},
		{"description of 4000 characters", TypeExpenseClaim, set("description", long(4000)), "", ""},
		{"description of 4001 characters", TypeExpenseClaim, set("description", long(4001)), ReasonFieldTooLong, "/data/description: longer than 4000 characters"},
		{"900 KB description", TypeExpenseClaim, set("description", strings.Repeat("a", 900<<10)), ReasonFieldTooLong, "/data/description"},
		{"100 attendees", TypeExpenseClaim, set("attendees", items(100, "GLG")), "", ""},
		{"101 attendees", TypeExpenseClaim, set("attendees", items(101, "GLG")), ReasonFieldTooLong, "/data/attendees: more than 100 items"},
		{"attendee too long", TypeExpenseClaim, set("attendees", []any{"GLG", long(257)}), ReasonFieldTooLong, "/data/attendees/1: longer than 256"},
		{"101 speaker descriptors", TypeSeminarReported, set("speaker_descriptors", items(101, "前总监")), ReasonFieldTooLong, "/data/speaker_descriptors"},
		{"speaker descriptor too long", TypeSeminarReported, set("speaker_descriptors", []any{long(257)}), ReasonFieldTooLong, "/data/speaker_descriptors/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAt(build(t, tt.typ, tt.edit), received)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a %s DecodeError", err, tt.wantReason)
			}
			if de.Reason != tt.wantReason || !strings.Contains(de.Detail, tt.wantDetail) {
				t.Errorf("got %v, want %s containing %q", err, tt.wantReason, tt.wantDetail)
			}
		})
	}
}

// The bounds live in the JSON Schemas; the decoder reads them from there, so
// dropping a keyword from the schema is caught here as well as above.
func TestDateBoundsComeFromTheSchemas(t *testing.T) {
	s := compiledSchemas()
	want := map[string]string{
		TypeExpenseClaim:    "incurred_on:date:1990-01-01+2",
		TypeCardTransaction: "occurred_at:instant:1990-01-01+2",
		TypeProjectAssigned: "effective_date:date:1990-01-01+2 launch_date:date:1990-01-01+10",
		TypeLeaveRecorded:   "end_date:date:1990-01-01+2 start_date:date:1990-01-01+2",
	}
	for typ, w := range want {
		var got []string
		for _, b := range s.dates[typ] {
			kind := "date"
			if b.instant {
				kind = "instant"
			}
			got = append(got, b.key+":"+kind+":"+string(b.earliest)+"+"+itoa(b.yearsAfter))
		}
		if strings.Join(got, " ") != w {
			t.Errorf("%s bounds = %v, want %s", typ, got, w)
		}
	}
	if len(s.envelopeDates) != 1 || s.envelopeDates[0].key != "time" {
		t.Errorf("envelope bounds = %+v, want time", s.envelopeDates)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
