package privacy

import (
	"testing"

	"github.com/moonlight-oss/moonlight/internal/audit"
)

func TestMaskText(t *testing.T) {
	var m Mask
	m.AddPerson("P-AAAA-BBBB", "E1012", "张伟", "zhang.wei@example.com")
	m.AddPerson("[manager]", "E1011", "马超", "")
	for _, tc := range []struct{ give, want string }{
		{"attendees: 张伟, 王五", "attendees: P-AAAA-BBBB, 王五"},
		{"E1012 met E10123 and E1011", "P-AAAA-BBBB met E10123 and [manager]"},
		{"mail zhang.wei@example.com or Zhang Wei or ZHANG.WEI", "mail P-AAAA-BBBB or P-AAAA-BBBB or P-AAAA-BBBB"},
		{"'E1012'", "'P-AAAA-BBBB'"},
		{"E1012 E1012", "P-AAAA-BBBB P-AAAA-BBBB"},
		{"经理马超批准", "经理[manager]批准"},
		{"nothing here", "nothing here"},
	} {
		if got := m.Text(tc.give); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.give, got, tc.want)
		}
	}
	var none Mask
	none.AddPerson("P", "", "", "")
	if !none.Empty() || none.Text("a b") != "a b" {
		t.Error("a mask of nothing changed text")
	}
}

func TestJobFamily(t *testing.T) {
	for _, tc := range []struct{ give, want string }{
		{"VP, EV Powertrain", FamilyLeadership},
		{"Chief Compliance Officer", FamilyLeadership},
		{"Compliance Analyst", FamilyCompliance},
		{"Battery Systems Manager", FamilyManagement},
		{"Motor Control Engineer", FamilyEngineering},
		{"HMI Design Lead", FamilyManagement},
		{"Senior Accountant", FamilyFinance},
		{"HR Business Partner", FamilyPeople},
		{"Brand Events Specialist", FamilyCommercial},
		{"Janitor", FamilyOther},
		{"", ""},
	} {
		if got := JobFamily(tc.give); got != tc.want {
			t.Errorf("JobFamily(%q) = %q, want %q", tc.give, got, tc.want)
		}
	}
}

func TestAuditRows(t *testing.T) {
	names, err := NewPseudonymizer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	p := NewPolicy(DefaultConfig(), names)
	es := []audit.Entry{
		{Actor: "E1012", OwnerID: "E1012", Action: audit.ActionDisclosureCreate, ResourceID: "d1"},
		{Actor: "E1045", OwnerID: "E1012", Action: audit.ActionCaseRead, Reason: "about E1012", Details: map[string]string{"assignee": "E1012"}},
		{Actor: "E1045", Action: audit.ActionRescan},
	}
	rows := p.AuditRows(es, "")
	sub := names.Subject("E1012")
	if rows[0].Actor != sub || rows[0].OwnerID != "" || rows[0].Owner != sub {
		t.Errorf("own act: %+v", rows[0])
	}
	if rows[1].Actor != "E1045" || rows[1].Reason != "about "+sub || rows[1].Details["assignee"] != sub || rows[1].OwnerID != "" {
		t.Errorf("reviewer's read: %+v", rows[1])
	}
	if rows[2].Owner != "" || rows[2].Actor != "E1045" {
		t.Errorf("no owner: %+v", rows[2])
	}
	if es[1].Reason != "about E1012" {
		t.Error("AuditRows changed its input")
	}
	if got := p.AuditRows(es, "E1012"); got[1].OwnerID != "E1012" {
		t.Errorf("looked up by owner: %+v", got[1])
	}
	var off *Policy
	if got := off.AuditRows(es, ""); got[1].OwnerID != "E1012" || got[1].Owner != "" {
		t.Errorf("nil policy: %+v", got[1])
	}
}

func TestDictionary(t *testing.T) {
	sub := func(id string) string { return "P-" + id }
	d := NewDictionary([]Person{
		{ID: "E1012", Name: "张伟", Email: "zhang.wei@example.com"},
		{ID: "E2000", Name: "张伟"}, // a namesake
		{ID: "E1015", Name: "Li Na", Email: "li.na@example.com"},
		{ID: "E1", Name: "X"},
	}, sub)
	for _, tc := range []struct{ give, want string }{
		{"attendees: 中信证券研究部 分析师, Li Na", "attendees: 中信证券研究部 分析师, P-E1015"},
		{"E1012 met E10123 and li na (LI.NA@example.com)", "P-E1012 met E10123 and P-E1015 (P-E1015)"},
		{"dinner with 张伟", "dinner with " + Ambiguous},
		{"Lina and Xavier", "Lina and Xavier"},
		{"E1 is too short to be masked alone", "P-E1 is too short to be masked alone"},
		{"", ""},
	} {
		if got := d.Text(tc.give); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.give, got, tc.want)
		}
	}
	var none *Dictionary
	if none.Text("a") != "a" {
		t.Error("a nil dictionary changed text")
	}
}
