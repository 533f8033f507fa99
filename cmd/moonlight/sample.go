package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/moonlight-oss/moonlight/internal/produce"
	"github.com/moonlight-oss/moonlight/internal/sample"
	"github.com/moonlight-oss/moonlight/internal/service"
)

// sampleSeed fixes the sample data set; its event ids are stable, so loading
// it again changes nothing.
const sampleSeed = 11

// loadSample publishes the sample events the first time the demo starts on a
// data directory (an empty events collection).
func loadSample(ctx context.Context, svc *service.Service, out io.Writer) error {
	n, err := svc.Events.Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(out, "Sample data already loaded (%d events stored).\n", n)
		return nil
	}
	now := time.Now()
	msgs := sample.Generate(sampleSeed, now)
	w := produce.NewWriter(svc.Brokers())
	defer w.Close()
	t := svc.Topics()
	if err := produce.Publish(ctx, w, t, msgs); err != nil {
		return fmt.Errorf("load sample data: %w", err)
	}
	fmt.Fprintf(out, "Loaded the sample data set: %d events published; the consumers are storing them now.\n", len(msgs))
	return nil
}
