package detect_test

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// The evaluation corpus (testdata/eval, written by testdata/eval/gen.py from
// each person's story, independently of the detector) runs through the
// contract decoder, the HR projection and detection with the shipped rules
// and registry. A person "gets a case" when Score gives a severity, as the
// evaluation engine opens a case then.
const (
	evalDir      = "../../testdata/eval/"
	minPrecision = 0.97
	minRecall    = 0.97
)

var evalNow = civil.Date("2026-06-30")

type evalLabel struct {
	EmployeeID string `json:"employee_id"`
	Story      string `json:"story"`
	Case       bool   `json:"case"`
	Note       string `json:"note"`
}

type evalDisclosure struct {
	ID               string     `json:"id"`
	EmployeeID       string     `json:"employee_id"`
	Kind             string     `json:"kind"`
	Counterparty     string     `json:"counterparty"`
	CounterpartyType string     `json:"counterparty_type"`
	Start            civil.Date `json:"start_date"`
	End              civil.Date `json:"end_date"`
	Status           string     `json:"status"`
	Paid             bool       `json:"paid"`
	DecidedAt        time.Time  `json:"decided_at"`
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(evalDir + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestEvaluationCorpus(t *testing.T) {
	cfg, err := detect.ParseConfig(configs.Rules)
	if err != nil {
		t.Fatal(err)
	}
	wl, err := watchlist.Parse(configs.Watchlist)
	if err != nil {
		t.Fatal(err)
	}
	var labels []evalLabel
	readJSON(t, "labels.json", &labels)
	var discl []evalDisclosure
	readJSON(t, "disclosures.json", &discl)

	f, err := os.Open(evalDir + "events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	facts := map[string][]employee.Fact{}
	signals := map[string][]detect.Signal{}
	// Presence as the evaluation engine keeps it: every payment naming a city.
	presence := map[string][]detect.Presence{}
	var seminars []detect.Seminar
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		ev, err := event.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("event %d does not decode: %v", n, err)
		}
		if fa, ok := employee.FactOf(ev); ok {
			facts[ev.EmployeeID()] = append(facts[ev.EmployeeID()], fa)
		}
		if s, ok := detect.SignalOf(cfg, wl, ev); ok {
			signals[s.EmployeeID] = append(signals[s.EmployeeID], s)
		}
		if s, ok := detect.SeminarOf(wl, ev); ok {
			seminars = append(seminars, s)
		}
		if id, p, ok := detect.PresenceOf(ev); ok {
			presence[id] = append(presence[id], p)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	engagements := map[string][]detect.Engagement{}
	for _, d := range discl {
		engagements[d.EmployeeID] = append(engagements[d.EmployeeID], detect.Engagement{
			ID: d.ID, EmployeeID: d.EmployeeID, Kind: d.Kind, Counterparty: d.Counterparty,
			CounterpartyType: d.CounterpartyType, Start: d.Start, End: d.End, Status: d.Status, Paid: d.Paid,
			DecidedAt: d.DecidedAt,
		})
	}

	var tp, fp, fn int
	missed := map[string]int{}
	for _, l := range labels {
		got := detect.Evaluate(cfg, wl, detect.Input{
			EmployeeID: l.EmployeeID, Employee: employee.Build(l.EmployeeID, facts[l.EmployeeID]),
			Signals: signals[l.EmployeeID], Seminars: seminars, Engagements: engagements[l.EmployeeID],
			Presence: presence[l.EmployeeID], Now: evalNow,
		})
		for _, f := range got {
			sum := 0
			for _, p := range f.Points {
				sum += p.Points
			}
			if sum != f.Score || len(f.Points) == 0 {
				t.Errorf("%s %s: points %v add up to %d, score is %d", l.EmployeeID, f.Rule, f.Points, sum, f.Score)
			}
		}
		_, sev := detect.Score(cfg, got)
		flagged := sev != ""
		switch {
		case flagged && l.Case:
			tp++
		case flagged && !l.Case:
			fp++
			missed["false positive: "+l.Story]++
			for _, f := range got {
				t.Logf("FP %s (%s): %s", l.EmployeeID, l.Story, f.Summary)
			}
		case !flagged && l.Case:
			fn++
			missed["missed: "+l.Story]++
			t.Logf("FN %s (%s)", l.EmployeeID, l.Story)
		}
	}
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, tp+fn))
	t.Logf("corpus: %d employees, %d events, %d disclosures", len(labels), n, len(discl))
	t.Logf("precision %.3f (%d/%d), recall %.3f (%d/%d)", precision, tp, tp+fp, recall, tp, tp+fn)
	keys := make([]string, 0, len(missed))
	for k := range missed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  %s: %d", k, missed[k])
	}
	if len(labels) < 250 || n < 2500 {
		t.Errorf("corpus too small: %d employees, %d events", len(labels), n)
	}
	if precision < minPrecision || recall < minRecall {
		t.Errorf("precision %.3f, recall %.3f: want at least %.2f and %.2f", precision, recall, minPrecision, minRecall)
	}
}
