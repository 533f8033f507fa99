package project

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteCSV writes an insider list as CSV, UTF-8 with a byte-order mark so
// Excel opens Chinese names correctly: one line per period on the project.
func WriteCSV(w io.Writer, l List) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"project_code", "project_name", "as_of", "subject", "employee_id", "name", "department",
		"from", "to", "active", "attestation", "attested_at", "blackout_engagements"})
	for _, in := range l.Insiders {
		var engs []string
		for _, e := range in.BlackoutEngagements {
			engs = append(engs, fmt.Sprintf("%s %s..%s (%s)", e.Counterparty, e.Start, e.End, e.DisclosureID))
		}
		at := ""
		if !in.AttestedAt.IsZero() {
			at = in.AttestedAt.UTC().Format(time.RFC3339)
		}
		for _, p := range in.Periods {
			_ = cw.Write(cells(l.Project.Code, l.Project.Name, string(l.AsOf), in.Subject, in.EmployeeID, in.Name, in.Department,
				string(p.From), string(p.To), fmt.Sprint(in.Active), in.Attestation, at, strings.Join(engs, "; ")))
		}
	}
	cw.Flush()
	return cw.Error()
}

// cells defuses spreadsheet formulas: a value starting with = + - @ (or a
// tab or carriage return) is prefixed with ' so Excel shows it as text.
func cells(vs ...string) []string {
	for i, v := range vs {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			vs[i] = "'" + v
		}
	}
	return vs
}
