package httpapi

import "strings"

// fieldWords names the API's fields in words for error messages (issue
// 14: "end date", not `end_date`); details keep the paths for programs.
var fieldWords = map[string]string{
	"kind": "kind", "counterparty": "counterparty", "counterparty_type": "counterparty type", "topic": "topic",
	"start_date": "start date", "end_date": "end date", "paid": "paid", "compensation": "compensation",
	"compensation.amount": "amount", "compensation.currency": "currency", "notes": "notes",
	"decision": "decision", "comment": "comment", "conditions": "conditions", "version": "version",
	"reason": "reason", "outcome": "outcome", "assignee": "assignee", "text": "text", "cases": "cases", "action": "action",
}

// inWords is one sentence naming each field of details in words: "the
// request is invalid: end date must be on or after the start date".
func inWords(details []Detail) string {
	if len(details) == 0 {
		return "the request is invalid"
	}
	parts := make([]string, 0, len(details))
	for _, d := range details {
		name, ok := fieldWords[d.Field]
		if !ok {
			name = strings.ReplaceAll(d.Field, "_", " ")
		}
		parts = append(parts, strings.TrimSpace(name+" "+d.Message))
	}
	return "the request is invalid: " + strings.Join(parts, "; ")
}
