package project

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/detect"
	"github.com/moonlight-oss/moonlight/internal/employee"
)

func emp(id string, as ...employee.Assignment) employee.Employee {
	return employee.Employee{ID: id, Name: "n" + id, Projects: as}
}

func on(from, to string) employee.Assignment {
	return employee.Assignment{Code: "YU7", Name: "SUV", Sensitivity: "secret", LaunchDate: "2025-06-30",
		Start: civil.Date(from), End: civil.Date(to)}
}

func TestBuildAsOf(t *testing.T) {
	members := []employee.Employee{
		emp("E1", on("2024-01-01", "")),
		emp("E2", on("2024-06-01", "2025-01-31")),
		emp("E3", on("2025-03-01", "")),
		emp("E4", on("2024-01-01", "2024-03-01"), on("2025-02-01", "")),
	}
	p, ok := Describe("YU7", members, 90)
	if !ok || p.BlackoutFrom != "2025-04-01" || p.Sensitivity != "secret" {
		t.Fatalf("Describe = %+v %v", p, ok)
	}
	tasks := []attest.Task{{EmployeeID: "E1", Status: attest.StatusDone, Cycle: 0}, {EmployeeID: "E1", Status: attest.StatusPending, Cycle: 1}}
	engs := map[string][]detect.Engagement{"E1": {
		{ID: "d1", Status: "approved", Counterparty: "GLG", Start: "2025-05-01"},
		{ID: "d2", Status: "approved", Counterparty: "GLG", Start: "2025-01-01"},
		{ID: "d3", Status: "rejected", Counterparty: "GLG", Start: "2025-05-02"},
	}}
	tests := []struct {
		asOf   string
		want   string // subject:active:periods
		attest string
	}{
		{"2024-02-01", "E1:true:1 E4:true:1", "pending"},
		{"2024-12-01", "E1:true:1 E4:false:1 E2:true:1", "pending"},
		{"2025-02-15", "E1:true:1 E4:true:2 E2:false:1", "pending"},
		{"2025-06-01", "E1:true:1 E4:true:2 E2:false:1 E3:true:1", "pending"},
	}
	for _, tt := range tests {
		l := Build(p, civil.Date(tt.asOf), members, tasks, engs, func(id string) string { return id })
		var got []string
		for _, in := range l.Insiders {
			got = append(got, in.Subject+":"+map[bool]string{true: "true", false: "false"}[in.Active]+":"+string(rune('0'+len(in.Periods))))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("as of %s: %v, want %s", tt.asOf, got, tt.want)
		}
		if l.Insiders[0].Attestation != tt.attest || len(l.Insiders[0].BlackoutEngagements) != 1 {
			t.Errorf("as of %s: E1 = %+v", tt.asOf, l.Insiders[0])
		}
	}
	l := Build(p, "2024-12-01", members, nil, nil, func(id string) string { return id })
	if l.Insiders[2].Periods[0].To != "" {
		t.Error("an exit after the list's date is shown")
	}
	if l.Insiders[0].Attestation != AttestationMissing {
		t.Errorf("without tasks the attestation is %s", l.Insiders[0].Attestation)
	}
}

func TestWriteCSV(t *testing.T) {
	l := List{Project: Project{Code: "YU7"}, AsOf: "2025-01-01", Insiders: []Insider{
		{Subject: "P-1", Name: "=HYPERLINK(\"x\")", Periods: []Period{{From: "2024-01-01"}}, Attestation: "done"}}}
	var b bytes.Buffer
	if err := WriteCSV(&b, l); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if !strings.HasPrefix(s, "\ufeffproject_code,") || !strings.Contains(s, `'=HYPERLINK`) {
		t.Errorf("CSV = %q", s)
	}
}

func TestParseCSV(t *testing.T) {
	in := "\ufeffproject_code,name,kind,nda_signed_on,contact_name,contact_email\n" +
		"YU7,汽车日报,media,2025-01-10,赵,zhao@x.example\n" +
		"yu7, 汽车日报 ,media,2025-01-10,钱,qian@x.example\n" +
		"YU7,坏,vendor,2025-02-30,,\n" +
		"YU7,邮箱坏,agency,2025-01-01,孙,not-an-email\n"
	ps, errs, err := ParseCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || len(ps[0].Contacts) != 2 || ps[0].ID != PartnerID("YU7", "汽车日报") {
		t.Errorf("partners = %+v", ps)
	}
	if len(errs) != 2 || errs[0].Line != 4 || errs[0].Fields["kind"] == "" || errs[0].Fields["nda_signed_on"] == "" ||
		errs[1].Line != 5 || errs[1].Fields["contact_email"] == "" {
		t.Errorf("errors = %+v", errs)
	}
	if _, _, err := ParseCSV(strings.NewReader("name,kind\nx,media\n")); err == nil {
		t.Error("a header without project_code is accepted")
	}
}

func TestNDAValidOn(t *testing.T) {
	p := Partner{NDASignedOn: "2025-01-01", NDAExpiresOn: "2025-06-30"}
	for _, tt := range []struct {
		give string
		want bool
	}{{"2024-12-31", false}, {"2025-01-01", true}, {"2025-06-30", true}, {"2025-07-01", false}} {
		if got := p.NDAValidOn(civil.Date(tt.give)); got != tt.want {
			t.Errorf("NDAValidOn(%s) = %v", tt.give, got)
		}
	}
}
