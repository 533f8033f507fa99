package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/retention"
)

// purgeCommand removes the data whose retention period has passed, as the
// daily job in `serve` does, or with --dry-run prints per kind what it
// would remove. It reads the config as `serve` does and needs only MongoDB.
func purgeCommand(load func() (config.Config, error), stdout io.Writer) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "purge [--dry-run]",
		Short: "Remove data past its retention period (retention.*); --dry-run prints per kind what would go",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			return runPurge(cmd.Context(), cfg, dryRun, time.Now, stdout)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be removed, remove nothing")
	return cmd
}

func runPurge(ctx context.Context, cfg config.Config, dryRun bool, now func() time.Time, stdout io.Writer) error {
	db, closeDB, err := openMongo(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	auditStore := mongostore.NewAuditStore(db)
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = auditStore.Close(cctx)
	}()
	p := &retention.Purger{Store: mongostore.NewPurge(db, cfg.Retention.BatchSize), Audit: auditStore,
		Config: cfg.Retention, Now: now}
	rep, err := p.Run(ctx, dryRun, "cli")
	fmt.Fprint(stdout, rep.String())
	return err
}
