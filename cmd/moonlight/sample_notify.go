package main

import (
	"context"

	"github.com/moonlight-oss/moonlight/internal/service"
)

// sampleLanguages gives a few sample people Chinese as their language, so
// the demo's mails come in both (everyone else gets notify.language).
func sampleLanguages(ctx context.Context, svc *service.Service) error {
	for _, id := range []string{"E1045", "E1011", "E1012"} { // compliance officer, a manager, an engineer
		if err := svc.People.SetLanguage(ctx, id, "zh"); err != nil {
			return err
		}
	}
	return nil
}
