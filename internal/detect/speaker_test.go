package detect

import (
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/event"
)

func hireAs(date, dept, title, location string) employee.Fact {
	return fact(event.TypeEmployeeHired, date, "", &event.EmployeeHired{EmployeeID: "E1", Name: "Test", Department: dept,
		Title: title, Location: location, HireDate: d(date)})
}

func leave(id, from, to string) employee.Fact {
	return fact(event.TypeLeaveRecorded, from, id, &event.LeaveRecorded{EmployeeID: "E1", LeaveID: id, StartDate: d(from), EndDate: d(to), LeaveType: "personal"})
}

func speakerSeminar(t *testing.T, date, cityName string, descriptors ...string) Seminar {
	t.Helper()
	ev := seminar("sem-"+date, date, "中信证券", cityName)
	ev.Data.(*event.SeminarReported).SpeakerDescriptors = descriptors
	return sem(t, testWatchlist(t), ev)
}

func TestSeminarSpeakerMatch(t *testing.T) {
	cfg := DefaultConfig()
	wl := testWatchlist(t)
	director := hireAs("2020-01-01", "EV Powertrain R&D", "Director of Motor Control", "Shanghai")
	engineer := hireAs("2020-01-01", "EV Powertrain R&D", "Motor Control Engineer", "Shanghai")
	sourcing := hireAs("2020-01-01", "Supply Chain", "Sourcing Manager", "Beijing")
	visitor := hireAs("2020-01-01", "Supply Chain", "Sourcing Manager", "Shanghai")
	cnDesc := "某新能源车企研发总监"
	enDesc := "EV supply-chain manager at a Beijing carmaker"
	expense := signal(t, wl, claim("c1", "2025-11-14", "中信证券", city("Shanghai")))
	presence := []Presence{{Ref: event.Ref{Source: "card/test", ID: "t1"}, Date: d("2025-11-13"), City: "Beijing"}}

	tests := []struct {
		name     string
		emp      employee.Employee
		sem      Seminar
		signals  []Signal
		presence []Presence
		want     string // "" no speaker finding; else a substring of its summary
		wantEvid bool   // the seminar is attached to the expense finding
	}{
		{name: "descriptor fits and leave that day", emp: emp(director, leave("L1", "2025-11-14", "2025-11-14")),
			sem: speakerSeminar(t, "2025-11-14", "Shanghai", cnDesc), want: "function R&D"},
		{name: "English descriptor, payment in the city the day before", emp: emp(visitor),
			sem: speakerSeminar(t, "2025-11-14", "Beijing", enDesc), presence: presence, want: "a payment in Beijing on 2025-11-13"},
		{name: "an ordinary payment in the city the employee is based in corroborates nothing", emp: emp(sourcing),
			sem: speakerSeminar(t, "2025-11-14", "Beijing", enDesc), presence: presence},
		{name: "payment in another city corroborates nothing", emp: emp(sourcing),
			sem: speakerSeminar(t, "2025-11-14", "Shenzhen", enDesc), presence: presence},
		{name: "seniority does not fit", emp: emp(engineer, leave("L1", "2025-11-14", "2025-11-14")),
			sem: speakerSeminar(t, "2025-11-14", "Shanghai", cnDesc)},
		{name: "function does not fit", emp: emp(sourcing, leave("L1", "2025-11-14", "2025-11-14")),
			sem: speakerSeminar(t, "2025-11-14", "Shanghai", cnDesc)},
		{name: "another company", emp: emp(director, leave("L1", "2025-11-14", "2025-11-14")),
			sem: speakerSeminar(t, "2025-11-14", "Shanghai", "某银行研发总监")},
		{name: "fits without corroboration: evidence for the existing finding only", emp: emp(director),
			sem: speakerSeminar(t, "2025-11-14", "Shanghai", cnDesc), signals: []Signal{expense}, wantEvid: true},
		{name: "fits without corroboration and nothing else: nothing", emp: emp(director),
			sem: speakerSeminar(t, "2025-11-14", "Shanghai", cnDesc)},
		{name: "never high, even in a blackout", emp: emp(director, leave("L1", "2025-11-14", "2025-11-14"), assign("MS11", "confidential", "2026-01-10", "2025-01-01")),
			sem: speakerSeminar(t, "2025-11-14", "Shanghai", cnDesc), want: "corroborated by leave L1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Evaluate(cfg, wl, Input{EmployeeID: "E1", Employee: tt.emp, Signals: tt.signals, Seminars: []Seminar{tt.sem},
				Presence: tt.presence, Now: d("2025-12-01")})
			var sp *Finding
			evid := false
			for i, f := range fs {
				if f.Rule == RuleSpeaker {
					sp = &fs[i]
				}
				if f.Rule == RuleExpense && containsRef(f.EventRefs, tt.sem.Ref) {
					evid = true
				}
			}
			switch {
			case tt.want == "" && sp != nil:
				t.Errorf("unexpected finding: %s", sp.Summary)
			case tt.want != "" && sp == nil:
				t.Errorf("no %s finding; findings: %+v", RuleSpeaker, fs)
			case sp != nil:
				if !strings.Contains(sp.Summary, tt.want) || !strings.Contains(sp.Summary, "company") {
					t.Errorf("summary %q lacks %q or the company element", sp.Summary, tt.want)
				}
				if sp.Severity != SeverityMedium || sp.Score != cfg.Speaker.Points {
					t.Errorf("severity %s score %d, want medium %d", sp.Severity, sp.Score, cfg.Speaker.Points)
				}
			}
			if evid != tt.wantEvid {
				t.Errorf("seminar attached to the expense finding = %v, want %v", evid, tt.wantEvid)
			}
		})
	}
}

// TestSpeakerCandidatesCoverEveryFit: whoever a descriptor fits is among the
// candidates its queries select from the keys of their department and title,
// each indexed on its own (as HR events deliver them), so a late report
// finds everyone it may be about.
func TestSpeakerCandidatesCoverEveryFit(t *testing.T) {
	cfg := DefaultConfig()
	roles := [][2]string{
		{"EV Powertrain R&D", "Director of Motor Control"}, {"EV Powertrain R&D", "Motor Control Engineer"},
		{"Supply Chain", "Sourcing Manager"}, {"电驱研发部", "高级经理"}, {"智能驾驶", "感知算法专家"},
		{"Finance", "CFO Office Analyst"}, {"Marketing", "Head of Brand"}, {"供应链管理部", "采购总监"},
		{"Battery Cell Engineering", "Principal Engineer"}, {"Legal", "Counsel"},
	}
	descs := []string{"某新能源车企研发总监", "EV supply-chain manager at a Beijing carmaker", "某车企电驱经理",
		"某新能源车企智驾专家", "某新能源车企电池工程师", "某车企财务负责人", "a carmaker's marketing director", "某银行研发总监"}
	fits := 0
	for _, r := range roles {
		keys := map[string]bool{}
		for _, k := range append(SpeakerKeys(r[0]), SpeakerKeys(r[1])...) {
			keys[k] = true
		}
		emp := employee.Build("E1", []employee.Fact{hireAs("2020-01-01", r[0], r[1], "Hefei")})
		for _, desc := range descs {
			sem := Seminar{ID: "S", Date: d("2025-11-14"), Descriptors: []string{desc}}
			if !SpeakerMayFit(cfg, sem, emp) {
				continue
			}
			fits++
			selected := false
			for _, q := range SpeakerQueries(cfg, sem) {
				fn := false
				for _, k := range q.Functions {
					fn = fn || keys[k]
				}
				if fn && (q.Seniority == "" || keys[q.Seniority]) {
					selected = true
				}
			}
			if !selected {
				t.Errorf("%q fits %v (keys %v) but its queries %+v do not select them", desc, r, keys, SpeakerQueries(cfg, sem))
			}
		}
	}
	if fits < 5 {
		t.Fatalf("only %d fits: the table no longer exercises the queries", fits)
	}
}
