package review

import (
	"strconv"
	"strings"
	"time"
)

// ExportColumns are the columns of an export of the queue, in order; the
// API uses them as the header, the web UI translates them.
func ExportColumns() []string {
	return []string{"case_id", "employee_id", "employee_name", "department", "status", "severity", "score",
		"assignee", "rules", "counterparties", "projects", "opened_at", "updated_at"}
}

// ExportRow is c as a row of ExportColumns. Times are RFC 3339 in UTC, so
// a file read anywhere means one instant.
func (c Case) ExportRow() []string {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	who, name := c.EmployeeID, c.EmployeeName
	if who == "" {
		who = c.Subject // a pseudonymised view: the pseudonym stands for the person
	}
	return []string{c.ID, who, name, c.Department, c.Status, c.Severity, strconv.Itoa(c.Score),
		c.Assignee, strings.Join(c.Rules(), "; "), strings.Join(c.Counterparties(), "; "), strings.Join(c.Projects(), "; "),
		ts(c.OpenedAt), ts(c.UpdatedAt)}
}
