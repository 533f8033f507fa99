package explain

import (
	"regexp"
	"strconv"
)

// The service writes a closed set of English reasons into case histories
// (before they carried a Note) and into the audit log (whose entries hold
// text, and are never rewritten). Reason reads one back as a clause, so
// readers see it in their language; a person's own words match none of
// these and are shown as written.
var reasonPatterns = []struct {
	re     *regexp.Regexp
	clause func(m []string) Clause
}{
	{regexp.MustCompile(`^(\d+) finding\(s\) without an approved disclosure$`), func(m []string) Clause {
		return C(CodeHistoryOpened).With("uncovered", intParam(m[1]))
	}},
	{regexp.MustCompile(`^(\d+) finding\(s\), (\d+) without an approved disclosure$`), func(m []string) Clause {
		return C(CodeHistoryUpdated).With("findings", intParam(m[1])).With("uncovered", intParam(m[2]))
	}},
	{regexp.MustCompile(`^every finding is covered by an approved disclosure$`), func([]string) Clause { return C(CodeHistoryAllCovered) }},
	{regexp.MustCompile(`^no finding remains once all information arrived$`), func([]string) Clause { return C(CodeHistoryNoneRemains) }},
	{regexp.MustCompile(`^assigned to (\S+)$`), func(m []string) Clause { return C(CodeHistoryAssigned).With("assignee", Name(m[1])) }},
	{regexp.MustCompile(`^rule set version (\d+)$`), func(m []string) Clause { return C(CodeReasonRuleSetVersion).With("version", intParam(m[1])) }},
	{regexp.MustCompile(`^needs (.+)$`), func(m []string) Clause { return C(CodeReasonNeeds).With("roles", roleList(m[1])) }},
	{regexp.MustCompile(`^refused: (.+) needs the admin role$`), func(m []string) Clause {
		return C(CodeReasonNeedsAdmin).With("what", Name(m[1]))
	}},
}

// Fixed reasons the services write, by text.
var fixedReasons = map[string]string{
	"case queue":                             CodeReasonCaseQueue,
	"case review":                            CodeReasonCaseReview,
	"case decision":                          CodeReasonCaseDecision,
	"case assignment":                        CodeReasonCaseAssignment,
	"case comment":                           CodeReasonCaseComment,
	"rescan requested":                       CodeReasonRescan,
	"published through the API":              CodeReasonPublished,
	"revoked by an admin":                    CodeReasonRevoked,
	"nobody reads cases about themselves":    CodeReasonSelf,
	"nobody reads a case about themselves":   CodeReasonSelf,
	"nobody acts on a case about themselves": CodeReasonSelfAct,
	"not the owner, their manager, compliance or an auditor": CodeReasonNotReader,
	"may not read this disclosure":                           CodeReasonMayNotRead,
	"only the owner edits or withdraws a disclosure":         CodeReasonOwnerOnly,
}

// Reason reads a reason the service wrote (see reasonPatterns) as a clause.
func Reason(s string) (Clause, bool) {
	if code, ok := fixedReasons[s]; ok {
		return C(code), true
	}
	for _, p := range reasonPatterns {
		if m := p.re.FindStringSubmatch(s); m != nil {
			return p.clause(m), true
		}
	}
	return Clause{}, false
}

// roleList reads "compliance or auditor" / "compliance, auditor or manager"
// as role names.
func roleList(s string) Param {
	return Param{Type: TypeRoles, Values: regexp.MustCompile(`, | or `).Split(s, -1)}
}

func intParam(s string) Param {
	n, _ := strconv.Atoi(s)
	return Int(n)
}
