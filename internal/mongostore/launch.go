package mongostore

// launchIndexes lists the indexes of the launch workflow's stores:
// attestations, NDA partners and leak incidents.
func launchIndexes() []index {
	var all []index
	all = append(all, attestIndexes()...)
	all = append(all, partnerIndexes()...)
	all = append(all, incidentIndexes()...)
	return all
}
