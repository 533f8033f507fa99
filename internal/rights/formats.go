package rights

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// bom starts every CSV file, so spreadsheet programs read it as UTF-8
// (names are often Chinese).
const bom = "\ufeff"

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// csvFile is one CSV file of the zip: a header and rows.
type csvFile struct {
	name   string
	header []string
	rows   [][]string
}

// CSVFiles lays the data out as CSV files, one per section.
func (d Data) csvFiles() []csvFile {
	e := d.Employee
	files := []csvFile{{name: "employee.csv",
		header: []string{"employee_id", "name", "email", "department", "title", "manager_id", "location"},
		rows:   [][]string{{d.EmployeeID, e.Name, e.Email, e.Department, e.Title, e.ManagerID, e.Location}}}}
	emp := csvFile{name: "employment.csv", header: []string{"start", "end", "reason"}}
	for _, i := range e.Employments {
		emp.rows = append(emp.rows, []string{string(i.Start), string(i.End), i.Reason})
	}
	proj := csvFile{name: "projects.csv", header: []string{"code", "name", "sensitivity", "start", "end", "launch_date"}}
	for _, p := range e.Projects {
		proj.rows = append(proj.rows, []string{p.Code, p.Name, p.Sensitivity, string(p.Start), string(p.End), string(p.LaunchDate)})
	}
	leave := csvFile{name: "leave.csv", header: []string{"start", "end", "type"}}
	for _, l := range e.Leaves {
		leave.rows = append(leave.rows, []string{string(l.Start), string(l.End), l.Type})
	}
	sig := csvFile{name: "signals.csv", header: []string{"source", "event_id", "kind", "date", "amount", "currency", "merchant", "description", "city", "counterparty", "counterparty_type"}}
	for _, s := range d.Signals {
		sig.rows = append(sig.rows, []string{s.Ref.Source, s.Ref.ID, s.Kind, string(s.Date), s.Amount.Amount, s.Amount.Currency,
			s.Merchant, s.Description, s.City, s.Counterparty, s.CounterpartyType})
	}
	ev := csvFile{name: "events.csv", header: []string{"source", "id", "type", "time", "received_at", "topic"}}
	for _, x := range d.Events {
		ev.rows = append(ev.rows, []string{x.Source, x.ID, x.Type, ts(x.Time), ts(x.ReceivedAt), x.Topic})
	}
	decl := csvFile{name: "declarations.csv", header: []string{"id", "kind", "counterparty", "counterparty_type", "topic", "start_date", "end_date", "paid", "status", "decision", "conditions", "created_at", "updated_at"}}
	for _, x := range d.Declarations {
		outcome, conds := "", ""
		if x.Decision != nil {
			outcome, conds = string(x.Decision.Outcome), strings.Join(x.Decision.Conditions, "; ")
		}
		decl.rows = append(decl.rows, []string{x.ID, string(x.Kind), x.Counterparty, string(x.CounterpartyType), x.Topic,
			string(x.StartDate), string(x.EndDate), fmt.Sprint(x.Paid), string(x.Status), outcome, conds, ts(x.CreatedAt), ts(x.UpdatedAt)})
	}
	cs := csvFile{name: "cases.csv", header: []string{"case_id", "status", "opened_at", "decided_at", "decision", "decided_by", "reason", "finding_rule", "finding_severity", "finding", "occurred_on", "counterparty"}}
	for _, c := range d.Cases {
		decAt, outcome, by, reason := "", "", "", ""
		if c.Decision != nil {
			decAt, outcome, by, reason = ts(c.Decision.At), c.Decision.Outcome, c.Decision.By, c.Decision.Reason
		}
		if len(c.Findings) == 0 {
			cs.rows = append(cs.rows, []string{c.ID, c.Status, ts(c.OpenedAt), decAt, outcome, by, reason, "", "", "", "", ""})
		}
		for _, f := range c.Findings {
			cs.rows = append(cs.rows, []string{c.ID, c.Status, ts(c.OpenedAt), decAt, outcome, by, reason,
				f.Rule, f.Severity, f.Summary, string(f.OccurredOn), f.Counterparty})
		}
	}
	reads := csvFile{name: "reads.csv", header: []string{"at", "roles", "action", "purpose"}}
	for _, r := range d.Reads {
		reads.rows = append(reads.rows, []string{ts(r.At), strings.Join(r.Roles, " "), r.Action, r.Purpose})
	}
	return append(files, emp, proj, leave, sig, ev, decl, cs, reads)
}

// WriteCSVZip writes the data as a zip of CSV files (UTF-8 with a BOM).
func (d Data) WriteCSVZip(w io.Writer) error {
	z := zip.NewWriter(w)
	for _, f := range d.csvFiles() {
		fw, err := z.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: d.GeneratedAt})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(fw, bom); err != nil {
			return err
		}
		cw := csv.NewWriter(fw)
		if err := cw.Write(f.header); err != nil {
			return err
		}
		if err := cw.WriteAll(f.rows); err != nil {
			return err
		}
	}
	return z.Close()
}

// bundleJSON is the export as one JSON document.
type bundleJSON struct {
	EmployeeID  string                       `json:"employee_id"`
	GeneratedAt time.Time                    `json:"generated_at"`
	Collections map[string][]json.RawMessage `json:"collections"`
}

// WriteJSON writes the export as one JSON document: every collection's
// documents under its name.
func (b Bundle) WriteJSON(w io.Writer) error {
	out := bundleJSON{EmployeeID: b.EmployeeID, GeneratedAt: b.GeneratedAt, Collections: map[string][]json.RawMessage{}}
	for _, c := range b.Collections {
		docs := c.Documents
		if docs == nil {
			docs = []json.RawMessage{}
		}
		out.Collections[c.Name] = docs
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteZip writes the export as a zip: one JSON file per collection (an
// array of its documents) and manifest.json.
func (b Bundle) WriteZip(w io.Writer) error {
	z := zip.NewWriter(w)
	manifest := map[string]any{"employee_id": b.EmployeeID, "generated_at": b.GeneratedAt, "collections": map[string]int{}}
	for _, c := range b.Collections {
		manifest["collections"].(map[string]int)[c.Name] = len(c.Documents)
		fw, err := z.CreateHeader(&zip.FileHeader{Name: c.Name + ".json", Method: zip.Deflate, Modified: b.GeneratedAt})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		buf.WriteString("[")
		for i, d := range c.Documents {
			if i > 0 {
				buf.WriteString(",\n")
			}
			buf.Write(d)
		}
		buf.WriteString("]\n")
		if _, err := fw.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	fw, err := z.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: b.GeneratedAt})
	if err != nil {
		return err
	}
	if err := json.NewEncoder(fw).Encode(manifest); err != nil {
		return err
	}
	return z.Close()
}

// The JSON document of /me/data (docs/privacy.md and openapi.yaml).
type (
	dataJSON struct {
		EmployeeID     string            `json:"employee_id"`
		GeneratedAt    time.Time         `json:"generated_at"`
		Employee       employeeJSON      `json:"employee"`
		Signals        []signalJSON      `json:"signals"`
		Events         []eventJSON       `json:"events"`
		EventsTrimmed  bool              `json:"events_truncated"`
		Declarations   []declarationJSON `json:"declarations"`
		FindingsPolicy string            `json:"findings_policy"`
		Cases          []caseJSON        `json:"cases"`
		HiddenCases    int               `json:"cases_not_shown"`
		Reads          []readJSON        `json:"reads"`
		ReadsTruncated bool              `json:"reads_truncated"`
		Retention      map[string]string `json:"retention"`
	}
	employeeJSON struct {
		Name        string       `json:"name"`
		Email       string       `json:"email"`
		Department  string       `json:"department"`
		Title       string       `json:"title"`
		ManagerID   string       `json:"manager_id"`
		Location    string       `json:"location"`
		Employments []periodJSON `json:"employments"`
		Projects    []projJSON   `json:"projects"`
		Leaves      []leaveJSON  `json:"leaves"`
	}
	periodJSON struct {
		Start  string `json:"start"`
		End    string `json:"end"`
		Reason string `json:"reason"`
	}
	projJSON struct {
		Code        string `json:"code"`
		Name        string `json:"name"`
		Sensitivity string `json:"sensitivity"`
		Start       string `json:"start"`
		End         string `json:"end"`
		LaunchDate  string `json:"launch_date"`
	}
	leaveJSON struct {
		Start string `json:"start"`
		End   string `json:"end"`
		Type  string `json:"type"`
	}
	signalJSON struct {
		Source           string `json:"source"`
		EventID          string `json:"event_id"`
		Kind             string `json:"kind"`
		Date             string `json:"date"`
		Amount           string `json:"amount"`
		Currency         string `json:"currency"`
		Merchant         string `json:"merchant"`
		Description      string `json:"description"`
		City             string `json:"city"`
		Counterparty     string `json:"counterparty"`
		CounterpartyType string `json:"counterparty_type"`
	}
	eventJSON struct {
		Source     string    `json:"source"`
		ID         string    `json:"id"`
		Type       string    `json:"type"`
		Time       time.Time `json:"time"`
		ReceivedAt time.Time `json:"received_at"`
		Topic      string    `json:"topic"`
	}
	declarationJSON struct {
		ID               string    `json:"id"`
		Kind             string    `json:"kind"`
		Counterparty     string    `json:"counterparty"`
		CounterpartyType string    `json:"counterparty_type"`
		Topic            string    `json:"topic"`
		StartDate        string    `json:"start_date"`
		EndDate          string    `json:"end_date"`
		Paid             bool      `json:"paid"`
		Status           string    `json:"status"`
		Decision         string    `json:"decision"`
		Conditions       []string  `json:"conditions"`
		CreatedAt        time.Time `json:"created_at"`
		UpdatedAt        time.Time `json:"updated_at"`
	}
	caseJSON struct {
		ID       string        `json:"id"`
		Status   string        `json:"status"`
		OpenedAt time.Time     `json:"opened_at"`
		Decision *decisionJSON `json:"decision"`
		Findings []findingJSON `json:"findings"`
	}
	decisionJSON struct {
		Outcome string    `json:"outcome"`
		By      string    `json:"by"`
		Reason  string    `json:"reason"`
		At      time.Time `json:"at"`
	}
	findingJSON struct {
		Rule         string `json:"rule"`
		Severity     string `json:"severity"`
		Summary      string `json:"summary"`
		OccurredOn   string `json:"occurred_on"`
		Counterparty string `json:"counterparty"`
	}
	readJSON struct {
		At      time.Time `json:"at"`
		Roles   []string  `json:"roles"`
		Action  string    `json:"action"`
		Purpose string    `json:"purpose"`
	}
)

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// JSON returns the data as the JSON document of /me/data.
func (d Data) JSON() any {
	e := d.Employee
	out := dataJSON{EmployeeID: d.EmployeeID, GeneratedAt: d.GeneratedAt, FindingsPolicy: d.FindingsPolicy,
		HiddenCases: d.HiddenCases, ReadsTruncated: d.ReadsTruncated, EventsTrimmed: d.EventsTrimmed,
		Employee: employeeJSON{Name: e.Name, Email: e.Email, Department: e.Department, Title: e.Title, ManagerID: e.ManagerID,
			Location: e.Location, Employments: []periodJSON{}, Projects: []projJSON{}, Leaves: []leaveJSON{}},
		Signals: []signalJSON{}, Events: []eventJSON{}, Declarations: []declarationJSON{}, Cases: []caseJSON{}, Reads: []readJSON{},
		Retention: map[string]string{}}
	for _, kp := range d.Retention {
		out.Retention[string(kp.Kind)] = string(kp.Period)
	}
	for _, i := range e.Employments {
		out.Employee.Employments = append(out.Employee.Employments, periodJSON{Start: string(i.Start), End: string(i.End), Reason: i.Reason})
	}
	for _, p := range e.Projects {
		out.Employee.Projects = append(out.Employee.Projects, projJSON{Code: p.Code, Name: p.Name, Sensitivity: p.Sensitivity,
			Start: string(p.Start), End: string(p.End), LaunchDate: string(p.LaunchDate)})
	}
	for _, l := range e.Leaves {
		out.Employee.Leaves = append(out.Employee.Leaves, leaveJSON{Start: string(l.Start), End: string(l.End), Type: l.Type})
	}
	for _, s := range d.Signals {
		out.Signals = append(out.Signals, signalJSON{Source: s.Ref.Source, EventID: s.Ref.ID, Kind: s.Kind, Date: string(s.Date),
			Amount: s.Amount.Amount, Currency: s.Amount.Currency, Merchant: s.Merchant, Description: s.Description, City: s.City,
			Counterparty: s.Counterparty, CounterpartyType: s.CounterpartyType})
	}
	for _, x := range d.Events {
		out.Events = append(out.Events, eventJSON{Source: x.Source, ID: x.ID, Type: x.Type, Time: x.Time, ReceivedAt: x.ReceivedAt, Topic: x.Topic})
	}
	for _, x := range d.Declarations {
		dj := declarationJSON{ID: x.ID, Kind: string(x.Kind), Counterparty: x.Counterparty, CounterpartyType: string(x.CounterpartyType),
			Topic: x.Topic, StartDate: string(x.StartDate), EndDate: string(x.EndDate), Paid: x.Paid, Status: string(x.Status),
			Conditions: []string{}, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
		if x.Decision != nil {
			dj.Decision, dj.Conditions = string(x.Decision.Outcome), nonNil(x.Decision.Conditions)
		}
		out.Declarations = append(out.Declarations, dj)
	}
	for _, c := range d.Cases {
		cj := caseJSON{ID: c.ID, Status: c.Status, OpenedAt: c.OpenedAt, Findings: []findingJSON{}}
		if c.Decision != nil {
			cj.Decision = &decisionJSON{Outcome: c.Decision.Outcome, By: c.Decision.By, Reason: c.Decision.Reason, At: c.Decision.At}
		}
		for _, f := range c.Findings {
			cj.Findings = append(cj.Findings, findingJSON{Rule: f.Rule, Severity: f.Severity, Summary: f.Summary,
				OccurredOn: string(f.OccurredOn), Counterparty: f.Counterparty})
		}
		out.Cases = append(out.Cases, cj)
	}
	for _, r := range d.Reads {
		out.Reads = append(out.Reads, readJSON{At: r.At, Roles: nonNil(r.Roles), Action: r.Action, Purpose: r.Purpose})
	}
	return out
}
