package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/service"
)

// memOutbox is an in-memory notify.Outbox: idempotent by notice id, as the
// contract asks (the real outbox is wired at merge).
type memOutbox struct {
	mu sync.Mutex
	by map[string]notify.Notice
}

func (o *memOutbox) Enqueue(_ context.Context, ns ...notify.Notice) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.by == nil {
		o.by = map[string]notify.Notice{}
	}
	for _, n := range ns {
		if _, ok := o.by[n.ID]; !ok {
			o.by[n.ID] = n
		}
	}
	return nil
}

func (o *memOutbox) count(kind, recipient string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, x := range o.by {
		if x.Kind == kind && x.Recipient == recipient {
			n++
		}
	}
	return n
}

// skewClock is now plus an offset the test moves.
type skewClock struct{ skew atomic.Int64 }

func (c *skewClock) Now() time.Time          { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c *skewClock) advance(d time.Duration) { c.skew.Add(int64(d)) }

type attestationView struct {
	ID          string    `json:"id"`
	ProjectCode string    `json:"project_code"`
	Status      string    `json:"status"`
	ReceivedAt  time.Time `json:"received_at"`
	DueAt       time.Time `json:"due_at"`
	BlackoutTo  string    `json:"blackout_to"`
	Questions   []struct{ Key, Text string }
	Answers     map[string]bool `json:"answers"`
	Version     int64           `json:"version"`
	TemplateV   int64           `json:"template_version"`
}

type launchFixture struct {
	*system
	clock  *skewClock
	outbox *memOutbox
	today  civil.Date
	src    string
}

func startLaunch(t *testing.T) *launchFixture {
	clk, ob := &skewClock{}, &memOutbox{}
	s := startSystem(t, func(svc *service.Service) {
		svc.Launch.Attest.Now = clk.Now
		svc.Launch.Attest.Outbox = ob
		// The system under test runs with privacy.pseudonymise off (names in
		// the case assertions); insider lists are checked with it on.
		svc.Launch.Insiders.Pseudonymise = true
	})
	f := &launchFixture{system: s, clock: clk, outbox: ob, today: civil.Of(time.Now()), src: "hris/workday-cn"}
	return f
}

func (f *launchFixture) hire(id, name string) event.Event {
	return f.ev(f.src, "hire-"+id, &event.EmployeeHired{EmployeeID: id, Name: name, Department: "EV Unit", Title: "Engineer",
		ManagerID: "M0001", Location: "上海", HireDate: f.today.AddDays(-800)})
}

func (f *launchFixture) assign(id string, from int) event.Event {
	return f.ev(f.src, "yu7-"+id, &event.ProjectAssigned{EmployeeID: id, ProjectCode: "YU7", ProjectName: "YU7 SUV",
		Sensitivity: "secret", LaunchDate: f.today.AddDays(40), EffectiveDate: f.today.AddDays(from)})
}

func (f *launchFixture) mine(emp string) []attestationView {
	var out struct{ Items []attestationView }
	f.call(200, "GET", "/api/v1/me/attestations", f.token(emp, "employee"), nil, &out)
	return out.Items
}

// TestAttestationOnSecretProject: an assignment to a secret project (a
// backfill, effective 400 days ago) asks for an attestation due five days
// after receipt, not overdue on arrival and asked once however often the
// event is delivered; the employee attests and the task is done. A second
// employee does not: once the injected clock passes the due date, the job
// makes the task overdue, notifies employee and manager once, and an
// attestation-overdue finding opens a low case for them.
func TestAttestationOnSecretProject(t *testing.T) {
	f := startLaunch(t)
	a1 := f.assign("E7001", -400)
	f.produce(f.hire("E7001", "王磊"), a1, f.hire("E7002", "刘芳"), f.assign("E7002", -30))
	f.waitConsumed(30 * time.Second)
	f.produce(a1, f.hire("E7003", "陈晨"), f.assign("E7003", -10)) // a1 redelivered: no second task
	f.waitConsumed(30 * time.Second)
	// E7003 leaves the project before attesting: the task lapses, no finding.
	if st := f.mine("E7003")[0].Status; st != "pending" {
		t.Fatalf("E7003's task is %s before leaving", st)
	}
	f.produce(f.ev(f.src, "yu7-off-E7003", &event.ProjectUnassigned{EmployeeID: "E7003", ProjectCode: "YU7", EffectiveDate: f.today.AddDays(-1)}))
	f.waitConsumed(30 * time.Second)
	if st := f.mine("E7003")[0].Status; st != "lapsed" {
		t.Errorf("after leaving the project E7003's task is %s, want lapsed", st)
	}

	items := f.mine("E7001")
	if len(items) != 1 {
		t.Fatalf("E7001 has %d attestations, want 1: %+v", len(items), items)
	}
	task := items[0]
	if task.Status != "pending" || task.ProjectCode != "YU7" {
		t.Fatalf("task = %+v, want pending on YU7", task)
	}
	if d := task.DueAt.Sub(task.ReceivedAt); d != 5*24*time.Hour {
		t.Errorf("due %s after receipt, want 5 days (a backfill is not overdue on arrival)", d)
	}
	if len(task.Questions) != 3 || !strings.Contains(task.Questions[1].Text, task.BlackoutTo) {
		t.Errorf("questions = %+v, want three with the blackout dates shown", task.Questions)
	}
	if f.outbox.count(notify.KindAttestationDue, "E7001") != 1 {
		t.Errorf("due notices to E7001 = %d, want 1", f.outbox.count(notify.KindAttestationDue, "E7001"))
	}

	emp := f.token("E7001", "employee")
	f.call(428, "POST", "/api/v1/me/attestations/"+task.ID, emp, map[string]any{"answers": map[string]bool{
		"engagements_declared": true, "blackout_known": true, "nda_held": true}}, nil)
	f.call(400, "POST", "/api/v1/me/attestations/"+task.ID, emp, map[string]any{"answers": map[string]bool{
		"engagements_declared": true, "blackout_known": false, "nda_held": true}, "version": task.Version}, nil)
	f.call(404, "POST", "/api/v1/me/attestations/"+task.ID, f.token("E7002", "employee"), map[string]any{"answers": map[string]bool{
		"engagements_declared": true, "blackout_known": true, "nda_held": true}, "version": task.Version}, nil)
	// Eight submissions of the same version at once (two tabs, a double
	// click): exactly one wins, the others are told it changed.
	codes := make(chan int, 8)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(map[string]any{"answers": map[string]bool{"engagements_declared": true, "blackout_known": true,
				"nda_held": true}, "version": task.Version})
			req, _ := http.NewRequest("POST", f.base+"/api/v1/me/attestations/"+task.ID, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+emp)
			req.Header.Set("Content-Type", "application/json")
			resp, err := f.http.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	if got[200] != 1 || got[409] != 7 {
		t.Errorf("concurrent attestations answered %v, want one 200 and seven 409", got)
	}
	done := f.mine("E7001")[0]
	if done.Status != "done" || !done.Answers["nda_held"] || done.Version != task.Version+1 {
		t.Fatalf("after attesting: %+v", done)
	}
	f.call(409, "POST", "/api/v1/me/attestations/"+task.ID, emp, map[string]any{"answers": map[string]bool{
		"engagements_declared": true, "blackout_known": true, "nda_held": true}, "version": task.Version}, nil)

	// E7002 never attests. Before the due date the job changes nothing.
	ctx := context.Background()
	if _, err := f.svc.Launch.Job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if st := f.mine("E7002")[0].Status; st != "pending" {
		t.Fatalf("before the due date E7002's task is %s", st)
	}
	f.clock.advance(6 * 24 * time.Hour)
	for i := 0; i < 2; i++ { // a second round adds nothing
		if _, err := f.svc.Launch.Job.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.mine("E7002")[0].Status; st != "overdue" {
		t.Fatalf("after the due date E7002's task is %s, want overdue", st)
	}
	if st := f.mine("E7001")[0].Status; st != "done" {
		t.Errorf("E7001's attested task became %s", st)
	}
	if f.outbox.count(notify.KindAttestationOverdue, "E7002") != 1 || f.outbox.count(notify.KindAttestationOverdue, "M0001") != 1 {
		t.Errorf("overdue notices: employee %d, manager %d; want 1 each",
			f.outbox.count(notify.KindAttestationOverdue, "E7002"), f.outbox.count(notify.KindAttestationOverdue, "M0001"))
	}
	cs := f.cases(f.token("C0001", "compliance"))
	c, ok := cs["E7002"]
	if !ok {
		t.Fatalf("no case for E7002; cases: %v", keys(cs))
	}
	if c.Severity != "low" || len(c.Findings) != 1 || c.Findings[0].Rule != "attestation-overdue" ||
		!strings.Contains(c.Findings[0].Summary, "YU7") {
		t.Errorf("E7002's case = %s %+v; want low with one attestation-overdue finding naming YU7", c.Severity, c.Findings)
	}
	if _, ok := cs["E7001"]; ok {
		t.Error("E7001 attested in time but has a case")
	}
	if _, ok := cs["E7003"]; ok {
		t.Error("E7003 left the project before the due date but has a case")
	}

	// An admin edits the texts: new tasks show version 1, the done task
	// keeps the version it attested to; a save based on an old version is refused.
	admin := f.token("AD001", "admin")
	var tpl struct {
		Version   int64
		Intro     map[string]string
		Questions map[string]map[string]string
	}
	f.call(200, "GET", "/api/v1/admin/attestation-template", admin, nil, &tpl)
	tpl.Questions["nda_held"] = map[string]string{"en": "I hold the NDA of {project} and keep its secrets.", "zh": "我持有 {project} 的保密协议并严守秘密。"}
	body := map[string]any{"based_on": tpl.Version, "intro": tpl.Intro, "questions": tpl.Questions}
	f.call(200, "PUT", "/api/v1/admin/attestation-template", admin, body, nil)
	f.call(409, "PUT", "/api/v1/admin/attestation-template", admin, body, nil)
	f.call(403, "PUT", "/api/v1/admin/attestation-template", emp, body, nil)
	f.call(403, "GET", "/api/v1/admin/attestation-template", emp, nil, nil) // the service's decision, audited there
	if got := f.mine("E7001")[0]; got.TemplateV != 0 {
		t.Errorf("the done task shows texts version %d, want the 0 it attested to", got.TemplateV)
	}

	// A year on, E7001 (still on YU7) is asked again, with the new texts.
	f.clock.advance(366 * 24 * time.Hour)
	if _, err := f.svc.Launch.Job.Round(ctx); err != nil {
		t.Fatal(err)
	}
	again := f.mine("E7001")
	if len(again) != 2 || again[0].Status != "pending" || again[0].TemplateV != 1 || !strings.Contains(again[0].Questions[2].Text, "keep its secrets") {
		t.Errorf("a year on E7001 has %+v; want a new pending task with texts version 1", again)
	}
}

// TestInsiderListAsOfADate: who was on YU7 on a date, with their periods,
// attestation state and approved engagements overlapping the blackout; the
// CSV export starts with a UTF-8 byte-order mark; employees may not read it.
func TestInsiderListAsOfADate(t *testing.T) {
	f := startLaunch(t)
	f.produce(f.hire("E7101", "张三"), f.assign("E7101", -400),
		f.hire("E7102", "李四"), f.assign("E7102", -100),
		f.ev(f.src, "yu7-off-E7102", &event.ProjectUnassigned{EmployeeID: "E7102", ProjectCode: "YU7", EffectiveDate: f.today.AddDays(-50)}),
		f.hire("E7103", "王五"), f.assign("E7103", -20))
	f.waitConsumed(30 * time.Second)
	compliance := f.token("C0001", "compliance")

	type insider struct {
		Subject     string
		Active      bool
		Attestation string
		Periods     []struct{ From, To string }
	}
	var at60 struct {
		Project struct{ Code, Sensitivity string }
		Items   []insider
	}
	f.call(200, "GET", "/api/v1/projects/YU7/insiders?as_of="+string(f.today.AddDays(-60)), compliance, nil, &at60)
	subj := f.svc.Pseudonyms.Subject
	if at60.Project.Sensitivity != "secret" || len(at60.Items) != 2 || at60.Items[0].Subject != subj("E7101") || at60.Items[1].Subject != subj("E7102") {
		t.Fatalf("as of -60: %+v; want E7101 and E7102 (pseudonymised)", at60)
	}
	if !at60.Items[1].Active || at60.Items[1].Periods[0].To != "" {
		t.Errorf("as of -60 E7102 is on the project, its exit not yet known: %+v", at60.Items[1])
	}
	var at30 struct{ Items []insider }
	f.call(200, "GET", "/api/v1/projects/YU7/insiders?as_of="+string(f.today.AddDays(-30)), f.token("A0001", "auditor"), nil, &at30)
	if len(at30.Items) != 2 || at30.Items[1].Active || at30.Items[1].Periods[0].To != string(f.today.AddDays(-50)) {
		t.Errorf("as of -30: %+v; want E7102 listed as left on -50 and E7103 not yet there", at30.Items)
	}
	var now struct{ Items []insider }
	f.call(200, "GET", "/api/v1/projects/YU7/insiders", compliance, nil, &now)
	if len(now.Items) != 3 || now.Items[2].Subject != subj("E7103") || now.Items[2].Attestation != "pending" {
		t.Errorf("today: %+v; want three insiders, E7103 with a pending attestation", now.Items)
	}
	if strings.Contains(mustBody(t, f.system, "/api/v1/projects/YU7/insiders", compliance), "张三") {
		t.Error("the insider list shows names while pseudonymisation is on")
	}
	csv := mustBody(t, f.system, "/api/v1/projects/YU7/insiders?format=csv&as_of="+string(f.today.AddDays(-60)), compliance)
	if !strings.HasPrefix(csv, "\ufeffproject_code,") || !strings.Contains(csv, subj("E7101")) {
		t.Errorf("CSV export = %q; want a BOM, a header and the insiders", csv[:min(len(csv), 200)])
	}
	var reads struct{ Items []struct{ Action string } }
	f.call(200, "GET", "/api/v1/audit?action=project.insiders_read&owner_id=E7102", f.token("A0001", "auditor"), nil, &reads)
	if len(reads.Items) < 3 {
		t.Errorf("E7102 finds %d insider-list reads in the audit log, want one per read", len(reads.Items))
	}
	f.call(403, "GET", "/api/v1/projects/YU7/insiders", f.token("E7101", "employee"), nil, nil)
	f.call(404, "GET", "/api/v1/projects/NOPE/insiders", compliance, nil, nil)
}

func mustBody(t *testing.T, s *system, path, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// TestBacktraceRanksTheInsiderWithABrokerageSeminar: three insiders of YU7;
// one claimed a 中信证券 consulting fee on the day of a 中信证券 seminar on
// YU7. The back-trace of a leak seen five days ago ranks them first, above
// the insiders without evidence, with an explanation naming the seminar; a
// partner's contact without a valid NDA is listed too. Reading it is
// audited; an insider may not read it; it changes no case.
func TestBacktraceRanksTheInsiderWithABrokerageSeminar(t *testing.T) {
	f := startLaunch(t)
	semDay := f.today.AddDays(-30)
	paid := true
	f.produce(f.hire("E7201", "甲"), f.assign("E7201", -200), f.hire("E7202", "乙"), f.assign("E7202", -200),
		f.hire("E7203", "丙"), f.assign("E7203", -200),
		f.ev("expense/concur-cn", "EXP-7201", &event.ExpenseClaim{ClaimID: "EXP-7201", EmployeeID: "E7202", IncurredOn: semDay,
			Amount: money("3000.00"), Merchant: "中信证券股份有限公司", Category: "other", Description: "新能源车产业链交流会 咨询费", City: "上海"}),
		f.ev("intel/feed", "SEM-7201", &event.SeminarReported{SeminarID: "SEM-7201", Organizer: "中信证券", Title: "YU7 新车型产业链交流会",
			Date: semDay, City: "上海", Paid: &paid, SpeakerDescriptors: []string{"某新能源车企研发工程师"}}))
	f.waitConsumed(30 * time.Second)
	compliance := f.token("C0001", "compliance")
	before := f.snapshot(compliance)

	var partner struct{ ID string }
	f.call(201, "POST", "/api/v1/partners", f.token("AD001", "admin"), map[string]any{"project_code": "YU7", "name": "汽车日报",
		"kind": "media", "nda_signed_on": string(f.today.AddDays(-3)), "contacts": []map[string]string{{"name": "记者 赵", "email": "zhao@autodaily.example"}}}, &partner)

	var inc struct{ ID string }
	f.call(201, "POST", "/api/v1/incidents", compliance, map[string]any{"project_code": "YU7", "first_seen_on": string(f.today.AddDays(-5)),
		"kind": "photos", "where": "Weibo", "links": []string{"https://weibo.example/123"}}, &inc)
	var trace struct {
		Items []struct {
			Subject     string
			Kind        string
			Score       int
			Explanation struct {
				Text    string
				Reasons []struct{ Code string }
			}
		}
	}
	f.call(200, "GET", "/api/v1/incidents/"+inc.ID+"/backtrace", f.token("A0001", "auditor"), nil, &trace)
	if len(trace.Items) != 4 {
		t.Fatalf("back-trace has %d items, want 3 insiders and 1 partner contact: %+v", len(trace.Items), trace.Items)
	}
	top := trace.Items[0]
	if top.Subject != f.svc.Pseudonyms.Subject("E7202") || top.Score <= trace.Items[1].Score {
		t.Fatalf("top = %+v, want E7202 strictly first: %+v", top, trace.Items)
	}
	codes := ""
	for _, r := range top.Explanation.Reasons {
		codes += r.Code + " "
	}
	if !strings.Contains(codes, "seminar") || !strings.Contains(codes, "brokerage_seminar") || !strings.Contains(top.Explanation.Text, "中信证券") {
		t.Errorf("top explanation = %q %s", top.Explanation.Text, codes)
	}
	for _, it := range trace.Items[1:] {
		if it.Kind == "insider" && it.Score != 0 {
			t.Errorf("an insider without evidence scored %d: %s", it.Score, it.Explanation.Text)
		}
	}
	f.call(403, "GET", "/api/v1/incidents/"+inc.ID+"/backtrace", f.token("E7201", "compliance"), nil, nil)
	f.call(403, "POST", "/api/v1/incidents", f.token("A0001", "auditor"), map[string]any{"project_code": "YU7",
		"first_seen_on": string(f.today), "kind": "photos", "where": "x"}, nil)
	var bad struct {
		Error struct{ Details []struct{ Field string } }
	}
	f.call(400, "POST", "/api/v1/incidents", compliance, map[string]any{"project_code": "YU7", "first_seen_on": "2025-13-01",
		"kind": "rumour", "where": ""}, &bad)
	if len(bad.Error.Details) != 3 {
		t.Errorf("bad incident details = %+v, want first_seen_on, kind and where named", bad.Error.Details)
	}

	var log struct {
		Items []struct {
			Action, Actor string
			ResourceID    string `json:"resource_id"`
		}
	}
	f.call(200, "GET", "/api/v1/audit?action=incident.backtrace_read", f.token("A0001", "auditor"), nil, &log)
	seen := false
	for _, e := range log.Items {
		if e.Action == "incident.backtrace_read" && e.Actor == "A0001" && e.ResourceID == inc.ID {
			seen = true
		}
	}
	if !seen {
		t.Error("the back-trace read is not in the audit log")
	}
	// Each insider ranked finds the read under their own data.
	f.call(200, "GET", "/api/v1/audit?action=incident.backtrace_read&owner_id=E7201", f.token("A0001", "auditor"), nil, &log)
	if len(log.Items) != 1 || log.Items[0].ResourceID != inc.ID {
		t.Errorf("E7201's audit of the back-trace read = %+v, want one entry", log.Items)
	}
	if after := f.snapshot(compliance); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the back-trace changed the cases:\n%v\n%v", before, after)
	}
}

// TestPartnerCSVImport: a partner CSV with one bad line imports the rest
// and names the bad line and field; importing again updates, not duplicates.
func TestPartnerCSVImport(t *testing.T) {
	f := startLaunch(t)
	admin := f.token("AD001", "admin")
	csv := "\ufeffproject_code,name,kind,parent,nda_signed_on,nda_expires_on,embargo_until,contact_name,contact_email,contact_role\n" +
		"YU7,汽车日报,media,,2025-01-10,,2025-06-30,赵记者,zhao@autodaily.example,editor\n" +
		"YU7,汽车日报,media,,2025-01-10,,2025-06-30,钱记者,qian@autodaily.example,photographer\n" +
		"YU7,精密压铸,sub_supplier,华东车身,2025-02-01,2026-02-01,,孙工,,engineer\n" +
		"YU7,坏数据,vendor,,2025-02-30,,,,,\n"
	var res struct {
		Created, Updated int
		Errors           []struct {
			Line    int
			Details []struct{ Field string }
		}
	}
	post := func() {
		req, _ := http.NewRequest("POST", f.base+"/api/v1/partners/import", bytes.NewBufferString(csv))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := f.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("import: %d %s", resp.StatusCode, b)
		}
		res.Errors = nil
		if err := decodeJSON(resp.Body, &res); err != nil {
			t.Fatal(err)
		}
	}
	post()
	if res.Created != 2 || len(res.Errors) != 1 || res.Errors[0].Line != 5 || len(res.Errors[0].Details) != 2 {
		t.Fatalf("import = %+v; want 2 created and line 5's kind and nda_signed_on named", res)
	}
	post()
	if res.Created != 0 || res.Updated != 2 {
		t.Errorf("second import = %+v; want 2 updated", res)
	}
	var list struct {
		Items []struct {
			Name     string
			Contacts []struct{ Name string }
		}
	}
	f.call(200, "GET", "/api/v1/partners?project=YU7", f.token("C0001", "compliance"), nil, &list)
	if len(list.Items) != 2 {
		t.Fatalf("partners = %+v", list.Items)
	}
	for _, p := range list.Items {
		if p.Name == "汽车日报" && len(p.Contacts) != 2 {
			t.Errorf("汽车日报 has %d contacts, want 2", len(p.Contacts))
		}
	}
	f.call(403, "POST", "/api/v1/partners", f.token("C0001", "compliance"), map[string]any{"project_code": "YU7", "name": "x",
		"kind": "media", "nda_signed_on": "2025-01-01"}, nil)
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
