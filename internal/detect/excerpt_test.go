package detect

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/moonlight-oss/moonlight/internal/event"
)

func TestExcerpt(t *testing.T) {
	tests := []struct {
		give string
		n    int
		want string
	}{
		{give: "taxi", n: 10, want: "taxi"},
		{give: "  line one\n\tline two  ", n: 40, want: "line one line two"},
		{give: "专家访谈咨询费", n: 7, want: "专家访谈咨询费"},
		{give: "专家访谈咨询费", n: 5, want: "专家访谈…"},
		{give: "abc def ghi", n: 5, want: "abc…"},
	}
	for _, tt := range tests {
		if got := excerpt(tt.give, tt.n); got != tt.want {
			t.Errorf("excerpt(%q, %d) = %q, want %q", tt.give, tt.n, got, tt.want)
		}
	}
}

// A finding never copies more than a short excerpt of an event's free text,
// however long the (contract-bounded) text is.
func TestFindingQuotesOnlyExcerpts(t *testing.T) {
	wl := testWatchlist(t)
	long := strings.Repeat("行业研讨会咨询费 very long text ", 200)[:4000]
	merchant := "中信证券" + strings.Repeat("某", 250)
	claimEv := claim("c1", "2023-11-20", merchant, desc(long), city("上海"))
	semEv := seminar("s1", "2023-11-21", "中信证券"+strings.Repeat("甲", 250), "上海")
	semEv.Data.(*event.SeminarReported).Title = strings.Repeat("EV 研讨会 ", 40)
	in := Input{EmployeeID: "E1", Employee: emp(hire("2020-01-01")), Signals: []Signal{signal(t, wl, claimEv)},
		Seminars: []Seminar{sem(t, wl, semEv)}, Now: d("2024-01-10")}
	fs := Evaluate(DefaultConfig(), wl, in)
	if len(fs) == 0 {
		t.Fatal("no finding")
	}
	for _, f := range fs {
		if n := utf8.RuneCountInString(f.Summary); n > 1000 {
			t.Errorf("summary of %d characters quotes too much: %.200s…", n, f.Summary)
		}
		if strings.Contains(f.Summary, long[:400]) || strings.Contains(f.Summary, strings.Repeat("某", 100)) {
			t.Errorf("summary copies the long text: %.200s…", f.Summary)
		}
	}
}
