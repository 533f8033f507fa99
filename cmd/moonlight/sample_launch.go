package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moonlight-oss/moonlight/internal/incident"
	"github.com/moonlight-oss/moonlight/internal/project"
	"github.com/moonlight-oss/moonlight/internal/sample"
	"github.com/moonlight-oss/moonlight/internal/service"
)

// loadLaunchSample registers the launch story's partners (as the demo's
// admin) and records its leak incident (as the sample compliance officer),
// through the same services the API uses. Both steps are idempotent: a
// partner's id comes from its project and name, and an incident already
// recorded for the same project, day and place is not recorded again.
func loadLaunchSample(ctx context.Context, svc *service.Service, now time.Time, out io.Writer) error {
	admin := project.Actor{ID: "demo-admin", Roles: []string{"employee", "admin"}, RequestID: "demo-sample"}
	made := 0
	for _, sp := range sample.Partners(now) {
		p := project.Partner{ProjectCode: sp.ProjectCode, Name: sp.Name, Kind: sp.Kind, Parent: sp.Parent,
			NDASignedOn: sp.NDASignedOn, NDAExpiresOn: sp.NDAExpiresOn, EmbargoUntil: sp.EmbargoUntil}
		for _, c := range sp.Contacts {
			p.Contacts = append(p.Contacts, project.Contact{Name: c.Name, Email: c.Email, Role: c.Role})
		}
		if _, err := svc.Launch.Partners.Create(ctx, admin, p); err != nil {
			if errors.Is(err, project.ErrConflict) {
				continue
			}
			return fmt.Errorf("sample partner %s: %w", sp.Name, err)
		}
		made++
	}
	officer := incident.Actor{ID: sample.ComplianceOfficer, Roles: []string{"employee", "compliance"}, RequestID: "demo-sample"}
	known, err := svc.Launch.Incidents.List(ctx, officer)
	if err != nil {
		return err
	}
	recorded := 0
	for _, si := range sample.Incidents(now) {
		if hasIncident(known, si) {
			continue
		}
		if _, err := svc.Launch.Incidents.Create(ctx, officer, incident.Input{ProjectCode: si.ProjectCode, FirstSeenOn: string(si.FirstSeenOn),
			Kind: si.Kind, Where: si.Where, Links: si.Links, Keywords: si.Keywords}); err != nil {
			return fmt.Errorf("sample incident: %w", err)
		}
		recorded++
	}
	if made > 0 || recorded > 0 {
		fmt.Fprintf(out, "Registered %d sample partners under NDA and recorded %d leak incident (open /incidents as %s).\n",
			made, recorded, sample.ComplianceOfficer)
	}
	return nil
}

func hasIncident(known []incident.Incident, si sample.SampleIncident) bool {
	for _, k := range known {
		if k.ProjectCode == si.ProjectCode && k.FirstSeenOn == si.FirstSeenOn && k.Where == si.Where {
			return true
		}
	}
	return false
}
