package web

import (
	"sort"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
)

// TestCataloguesMatch: every message exists in both languages.
func TestCataloguesMatch(t *testing.T) {
	seen := map[string]int{}
	for i, p := range catalogueParts {
		for k := range p.en {
			if j, ok := seen[k]; ok {
				t.Errorf("key %q is in catalogue parts %d and %d", k, j, i)
			}
			seen[k] = i
		}
	}
	en, zh := catalogues()
	for _, c := range []struct {
		name      string
		have, ref map[string]string
	}{{"zh-Hans", zh, en}, {"en", en, zh}} {
		var missing []string
		for k := range c.ref {
			if _, ok := c.have[k]; !ok {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s lacks %v", c.name, missing)
		}
	}
}

// TestValidationMessagesTranslated: the domain's field messages for a
// typical bad form have a translation, so the Chinese form is not half English.
func TestValidationMessagesTranslated(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	bad := []disclosure.Input{
		{},
		{Kind: "x", CounterpartyType: "y", StartDate: "2024-06-10", EndDate: "2024-06-01", Paid: true,
			Compensation: &disclosure.Compensation{Amount: "0", Currency: "cny"}},
		{Kind: disclosure.KindSpeaking, CounterpartyType: disclosure.CounterpartyAcademic, Counterparty: "a", Topic: "b",
			StartDate: civil.Date("2024-06-10"), EndDate: "2024-06-10", Compensation: &disclosure.Compensation{Amount: "1x", Currency: "XYZ"}},
	}
	zh := newI18n(nil).byCode("zh-Hans")
	for i, in := range bad {
		for field, msg := range fieldErrors(zh, in.Validate(now, disclosure.DefaultLimits())) {
			for _, r := range msg {
				if r >= 'a' && r <= 'z' {
					t.Errorf("input %d field %s: untranslated message %q", i, field, msg)
					break
				}
			}
		}
	}
}
