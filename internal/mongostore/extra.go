package mongostore

// extraIndexes lists the indexes of stores added after the walking skeleton
// (disclosures, audit, cases); each store file appends its own function here.
func extraIndexes() []index {
	var all []index
	all = append(all, disclosureIndexes()...)
	all = append(all, auditIndexes()...)
	all = append(all, caseIndexes()...)
	all = append(all, signalIndexes()...)
	all = append(all, rulesIndexes()...)
	all = append(all, sessionIndexes()...)
	all = append(all, commentIndexes()...)
	all = append(all, unmaskIndexes()...)
	all = append(all, outboxIndexes()...)
	all = append(all, launchIndexes()...)
	all = append(all, savedFilterIndexes()...)
	all = append(all, idempotencyIndexes()...)
	all = append(all, purgeIndexes()...)
	return all
}
