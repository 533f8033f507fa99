package sample

import (
	"testing"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/employee"
	"github.com/moonlight-oss/moonlight/internal/incident/backtrace"
	prj "github.com/moonlight-oss/moonlight/internal/project"
	"github.com/moonlight-oss/moonlight/internal/watchlist"
)

// TestLaunchStory runs the pure pieces of the launch story over the sample
// set: the partners are valid, the leak lies in the past, and the back-trace
// of the MS11 leak ranks LaunchTop first, strictly, with a brokerage seminar
// among the reasons, and the sub-supplier's contact (NDA lapsed) above the
// insiders without evidence.
func TestLaunchStory(t *testing.T) {
	cfg, _ := detect.ParseConfig(configs.Rules)
	wl, _ := watchlist.Parse(configs.Watchlist)
	facts := map[string][]employee.Fact{}
	signals := map[string][]detect.Signal{}
	var seminars []detect.Seminar
	for _, d := range decodeAll(t, Generate(11, testNow)) {
		if f, ok := employee.FactOf(d.ev); ok {
			facts[d.ev.EmployeeID()] = append(facts[d.ev.EmployeeID()], f)
		}
		if s, ok := detect.SignalOf(cfg, wl, d.ev); ok {
			signals[s.EmployeeID] = append(signals[s.EmployeeID], s)
		}
		if s, ok := detect.SeminarOf(wl, d.ev); ok {
			seminars = append(seminars, s)
		}
	}
	var members []employee.Employee
	for id, fs := range facts {
		e := employee.Build(id, fs)
		for _, a := range e.Projects {
			if a.Code == LaunchProject {
				members = append(members, e)
				break
			}
		}
	}
	inc := Incidents(testNow)[0]
	if !inc.FirstSeenOn.Before(civil.Of(Today(testNow))) {
		t.Fatalf("the leak is dated %s, not in the past", inc.FirstSeenOn)
	}
	p, ok := prj.Describe(LaunchProject, members, cfg.BlackoutDays)
	if !ok || !prj.Sensitive(p.Sensitivity) {
		t.Fatalf("MS11 = %+v, want a sensitive project", p)
	}
	subject := func(id string) string { return id }
	list := prj.Build(p, inc.FirstSeenOn, members, nil, nil, subject)
	bc := backtrace.DefaultConfig()
	in := backtrace.Input{FirstSeen: inc.FirstSeenOn, BlackoutFrom: p.BlackoutFrom, BlackoutTo: p.BlackoutTo, Seminars: seminars,
		Keywords:         append([]string{p.Code, p.Name}, inc.Keywords...),
		CounterpartyType: func(id string) string { c, _ := wl.Get(id); return c.Type }}
	for _, ins := range list.Insiders {
		if !ins.Active {
			continue // left before the leak was seen: not in the back-trace
		}
		fs := detect.Evaluate(cfg, wl, detect.Input{EmployeeID: ins.EmployeeID, Employee: employee.Build(ins.EmployeeID, facts[ins.EmployeeID]),
			Signals: signals[ins.EmployeeID], Seminars: seminars, Now: civil.Of(Today(testNow))})
		in.People = append(in.People, backtrace.Person{Subject: ins.EmployeeID, Kind: backtrace.KindInsider, Findings: fs,
			Signals: signals[ins.EmployeeID], Attestation: attest.StatusPending})
	}
	for _, sp := range Partners(testNow) {
		pt := prj.Partner{ProjectCode: sp.ProjectCode, Name: sp.Name, Kind: sp.Kind, Parent: sp.Parent, NDASignedOn: sp.NDASignedOn,
			NDAExpiresOn: sp.NDAExpiresOn, EmbargoUntil: sp.EmbargoUntil}
		for _, c := range sp.Contacts {
			pt.Contacts = append(pt.Contacts, prj.Contact{Name: c.Name, Email: c.Email, Role: c.Role})
		}
		if _, err := prj.Normalize(pt); err != nil {
			t.Errorf("sample partner %s: %v", sp.Name, err)
		}
		for _, c := range pt.Contacts {
			in.People = append(in.People, backtrace.Person{Subject: c.Name, Kind: backtrace.KindPartner, Partner: pt.Name, NDAValid: pt.NDAValidOn(inc.FirstSeenOn)})
		}
	}
	items := backtrace.Rank(bc, in)
	for _, it := range items {
		t.Logf("%-8s %3d %s", it.Subject, it.Score, it.Explanation)
	}
	if items[0].Subject != LaunchTop || items[0].Score <= items[1].Score {
		t.Fatalf("top = %s (%d), next %s (%d); want %s strictly first", items[0].Subject, items[0].Score, items[1].Subject, items[1].Score, LaunchTop)
	}
	brokerage := false
	for _, r := range items[0].Reasons {
		brokerage = brokerage || r.Code == backtrace.ReasonBrokerageSeminar
	}
	if !brokerage {
		t.Errorf("the top item's reasons have no brokerage seminar: %s", items[0].Explanation)
	}
	zero := 0
	for _, it := range items {
		if it.Kind == backtrace.KindInsider && it.Score == 0 {
			zero++
		}
		if it.Subject == "周涛" && it.Score == 0 {
			t.Error("the sub-supplier's contact (NDA lapsed) scored 0")
		}
	}
	if zero < 3 {
		t.Errorf("%d insiders without evidence, want at least 3 listed at 0", zero)
	}
}
