package mongostore

import (
	"sort"

	"github.com/moonlight-oss/moonlight/internal/retention"
)

// Every collection Moonlight writes, classified for privacy (issue 15):
// purged under which retention kind (purgeTable), exported how
// (exportSources), or, when one of the two does not apply, why not.
// TestEveryCollectionIsClassified fails when a collection appears in the
// code or in a database without an entry here, in purgeTable or in
// exportSources; docs/privacy.md's tables list the same.

// notAboutPeople are the collections that hold nothing about a person
// beyond the ids of actors acting on company data: neither purged as
// personal data nor exported.
var notAboutPeople = map[string]string{
	ruleVersionsCollection: "versions of the detection rules; `by` names the admin who saved one (an actor on company configuration, as in the audit log)",
	attestTemplates:        "the attestation questionnaire's texts per version; `by` names the admin who edited them",
	incidentsCollection: "a leak of a project: where and when it was seen, links and keywords; `created_by` is the reviewer who recorded it. " +
		"The back-trace's ranking of suspects is computed on each read, audited, and never stored",
	queueFacetsCollection: "the queue's counts per (status, severity): numbers per department, rule, counterparty and month, and chunk ids; " +
		"no row names a person",
	rescanJobsCollection:  "a re-scan job: its number, the rules version, totals and the admin who asked",
	rescanStepsCollection: "a re-scan's progress: cursor, counts, replica and lease epoch",
	sweepStateCollection:  "the disclosure sweep's last day and cursor",
	leasesCollection:      "one-replica job leases: a job name, a replica and a term (purged as leases)",
	eventStatsCollection:  "hourly event counts (purged with the raw events)",
	seminarsCollection:    "seminars as reported by the intelligence feed: organiser, date, city, speakers' public descriptors (purged with the raw events)",
	queueClaimsCollection: "the facets' version claims (\"<facet>:<version>\"), the arbiter's documents (purged as transitions)",
	dueCollection: "the dispatcher's markers of pending notices and deliveries (\"n:<notice id>\", a time): one exists only while its notice " +
		"or delivery is pending, which the purge never removes; a marker whose document is gone is removed by the next poll",
}

// purgedWith are the collections the purge removes from only as part of
// another collection's entry in purgeTable (its cascade): the kinds that do
// and how. TestPurgeRemovesExactlyTheExpired seeds an expired document in
// each.
var purgedWith = map[string]struct {
	kinds []retention.Kind
	how   string
}{
	caseQueueCollection:      {caseKinds, "the purged case's queue row (MongoDB)"},
	queueChunksCollection:    {caseKinds, "the purged case's row in its facet's chunks, through the facet's version claim (FerretDB, mongo-java-server)"},
	queuePlacesCollection:    {caseKinds, "the purged case's placement"},
	caseRefsCollection:       {append(caseKinds, retention.FormerEmployees), "the purged case's id in its subject's index; the index with the former employee"},
	attestRefsCollection:     {[]retention.Kind{retention.FormerEmployees}, "the index of an employee's attestation ids, with the former employee (a purged attestation's id reads as missing until then)"},
	commentsCollection:       {caseKinds, "the purged case's comments"},
	unmaskRequestsCollection: {caseKinds, "the requests to unmask the purged case's subject, with their transitions"},
	unmaskStatesCollection: {append(caseKinds, retention.Reviewers, retention.FormerEmployees),
		"a requester's state of the purged case; all of a reviewer's with their registry entry (or their HR record when they were never a reviewer)"},
	counterpartyMonthsCollection: {[]retention.Kind{retention.Signals, retention.ClearedCases, retention.ConfirmedCases}, "the employee's entry in a month no signal left keeps"},
	deliveriesCollection:         {[]retention.Kind{retention.Notices}, "the deliveries of a purged notice"},
	claimsCollection:             {[]retention.Kind{retention.Notices}, "the claims of those deliveries' attempts"},
	profilesCollection:           {[]retention.Kind{retention.FormerEmployees}, "the notifier's language of a former employee"},
	uiProfilesCollection:         {[]retention.Kind{retention.FormerEmployees}, "the UI's language and zone of a former employee"},
	savedFiltersCollection: {[]retention.Kind{retention.Reviewers, retention.FormerEmployees},
		"a reviewer's saved queue filters with their registry entry (or their HR record when they were never a reviewer)"},
}

var caseKinds = []retention.Kind{retention.ClearedCases, retention.ConfirmedCases}

// notPurged are collections about people that the retention purge does not
// remove by a period of their own, with the reason.
var notPurged = map[string]string{
	reevaluationsCollection: "short-lived re-evaluation markers: the drainer deletes each once the employee is re-evaluated",
}

// notExported are collections about people that the privacy officer's
// export leaves out, with the reason.
var notExported = map[string]string{
	claimsCollection: "a replica's claim on one delivery attempt: the delivery's id, a replica and times; the delivery itself is exported",
	partnersCollection: "NDA partners are companies; their contacts are people outside the company, not employees, " +
		"kept in the NDA register for its purpose (purged with the partner)",
	queueClaimsCollection: "the facets' version claims name no person",
}

// CollectionClass is how one collection is treated for privacy.
type CollectionClass struct {
	Name string
	// Kinds are the retention kinds that purge it ("" none).
	Kinds []string
	// Exported reports whether the privacy officer's export includes it.
	Exported bool
	// Reason says why it is not about people, not purged or not exported.
	Reason string
	// AboutPeople is false for the notAboutPeople collections.
	AboutPeople bool
}

// Collections classifies every collection the stores write, by name.
func Collections() []CollectionClass {
	byName := map[string]*CollectionClass{}
	get := func(name string) *CollectionClass {
		c, ok := byName[name]
		if !ok {
			c = &CollectionClass{Name: name, AboutPeople: true}
			byName[name] = c
		}
		return c
	}
	for _, s := range purgeTable() {
		c := get(s.coll)
		if !containsString(c.Kinds, string(s.kind)) {
			c.Kinds = append(c.Kinds, string(s.kind))
		}
	}
	for name, w := range purgedWith {
		c := get(name)
		for _, k := range w.kinds {
			if !containsString(c.Kinds, string(k)) {
				c.Kinds = append(c.Kinds, string(k))
			}
		}
	}
	for _, s := range exportSources() {
		get(s.coll).Exported = true
	}
	for name, why := range notAboutPeople {
		c := get(name)
		c.AboutPeople, c.Reason = false, why
	}
	for _, m := range []map[string]string{notPurged, notExported} {
		for name, why := range m {
			c := get(name)
			if c.Reason == "" {
				c.Reason = why
			}
		}
	}
	out := make([]CollectionClass, 0, len(byName))
	for _, c := range byName {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NotExported returns the collections about people the export leaves out,
// with the reason (tests that scan a database for an employee's documents
// skip them).
func NotExported() map[string]string {
	out := make(map[string]string, len(notExported))
	for k, v := range notExported {
		out[k] = v
	}
	return out
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
