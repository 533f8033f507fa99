package employee

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/moonlight-oss/moonlight/internal/civil"
	"github.com/moonlight-oss/moonlight/internal/event"
)

func fact(id, typ string, eff string, data any) Fact {
	return Fact{Ref: event.Ref{Source: "hris", ID: id}, Type: typ, Effective: civil.MustParse(eff), Data: data}
}

func str(s string) *string { return &s }

func TestBuildIsOrderIndependent(t *testing.T) {
	facts := []Fact{
		fact("h1", event.TypeEmployeeHired, "2020-01-06", &event.EmployeeHired{EmployeeID: "E1", Name: "王伟", Department: "Design", ManagerID: "M1", HireDate: "2020-01-06"}),
		fact("u1", event.TypeEmployeeUpdated, "2021-03-01", &event.EmployeeUpdated{EmployeeID: "E1", EffectiveDate: "2021-03-01", Department: str("EV Powertrain")}),
		fact("u2", event.TypeEmployeeUpdated, "2022-07-01", &event.EmployeeUpdated{EmployeeID: "E1", EffectiveDate: "2022-07-01", ManagerID: str("M2"), Title: str("Lead")}),
		fact("p1", event.TypeProjectAssigned, "2022-01-01", &event.ProjectAssigned{EmployeeID: "E1", ProjectCode: "MS11", Sensitivity: "confidential", LaunchDate: "2023-04-18", EffectiveDate: "2022-01-01"}),
		fact("p2", event.TypeProjectUnassigned, "2023-05-01", &event.ProjectUnassigned{EmployeeID: "E1", ProjectCode: "MS11", EffectiveDate: "2023-05-01"}),
		fact("t1", event.TypeEmployeeTerminated, "2023-06-30", &event.EmployeeTerminated{EmployeeID: "E1", TerminationDate: "2023-06-30", Reason: "resigned"}),
		fact("h2", event.TypeEmployeeHired, "2024-02-01", &event.EmployeeHired{EmployeeID: "E1", Name: "王伟", Department: "Smart Cabin", HireDate: "2024-02-01"}),
		fact("l1", event.TypeLeaveRecorded, "2022-02-01", &event.LeaveRecorded{EmployeeID: "E1", LeaveID: "L1", StartDate: "2022-02-01", EndDate: "2022-02-07", LeaveType: "annual"}),
	}
	want := Build("E1", facts)
	if got := fmt.Sprint(want.Employments); got != "[{2020-01-06 2023-06-30 resigned} {2024-02-01  }]" {
		t.Fatalf("employments = %s", got)
	}
	if want.Department != "Smart Cabin" || want.ManagerID != "M2" || want.Title != "Lead" {
		t.Fatalf("profile = %+v", want)
	}
	if _, ok := want.EmploymentOn("2023-12-01"); ok {
		t.Fatal("employed between the two employments")
	}
	if got := want.ProjectsOn("2023-01-01"); len(got) != 1 || got[0].Code != "MS11" {
		t.Fatalf("projects on 2023-01-01 = %+v", got)
	}
	if got := want.ProjectsOn("2023-06-01"); len(got) != 0 {
		t.Fatalf("projects after unassignment = %+v", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		shuffled := append([]Fact(nil), facts...)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		e := Employee{ID: "E1"}
		for _, f := range shuffled {
			e.Add(f)
			e.Add(f) // a redelivery changes nothing
		}
		if fmt.Sprintf("%+v", e) != fmt.Sprintf("%+v", want) {
			t.Fatalf("order %d gave\n%+v\nwant\n%+v", i, e, want)
		}
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name string
		give []Fact
		want string
	}{
		{
			name: "termination before any hire event: employed until then, start unknown",
			give: []Fact{fact("t1", event.TypeEmployeeTerminated, "2023-06-30", &event.EmployeeTerminated{EmployeeID: "E1", TerminationDate: "2023-06-30"})},
			want: "[{ 2023-06-30 }]",
		},
		{
			name: "a second hire while employed opens no second interval",
			give: []Fact{
				fact("h1", event.TypeEmployeeHired, "2020-01-06", &event.EmployeeHired{EmployeeID: "E1", Name: "A", Department: "D", HireDate: "2020-01-06"}),
				fact("h2", event.TypeEmployeeHired, "2021-01-06", &event.EmployeeHired{EmployeeID: "E1", Name: "A", Department: "D", HireDate: "2021-01-06"}),
			},
			want: "[{2020-01-06  }]",
		},
		{
			name: "termination on the hire day",
			give: []Fact{
				fact("t1", event.TypeEmployeeTerminated, "2020-01-06", &event.EmployeeTerminated{EmployeeID: "E1", TerminationDate: "2020-01-06", Reason: "other"}),
				fact("h1", event.TypeEmployeeHired, "2020-01-06", &event.EmployeeHired{EmployeeID: "E1", Name: "A", Department: "D", HireDate: "2020-01-06"}),
			},
			want: "[{2020-01-06 2020-01-06 other}]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(Build("E1", tt.give).Employments); got != tt.want {
				t.Fatalf("employments = %s, want %s", got, tt.want)
			}
		})
	}
}
