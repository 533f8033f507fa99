package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/configs"
	"github.com/moonlight-oss/moonlight/internal/audit"
	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/review"
)

// rescanCommand re-evaluates the stored events with the rules and watchlist
// of the config, without Kafka: only MongoDB is needed.
func rescanCommand(load func() (config.Config, error), stdout io.Writer) *cobra.Command {
	var pageSize int
	cmd := &cobra.Command{
		Use:   "rescan",
		Short: "Re-evaluate stored events after a rules or watchlist change (idempotent)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			return runRescan(cmd.Context(), cfg, pageSize, stdout, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().IntVar(&pageSize, "page-size", 500, "events read per page")
	return cmd
}

func runRescan(ctx context.Context, cfg config.Config, pageSize int, stdout, progress io.Writer) error {
	db, err := mongostore.Connect(cfg.Mongo.URI, cfg.Mongo.Database, cfg.Mongo.Timeout)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = db.Close(cctx)
	}()
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.Ping(pctx); err != nil {
		return fmt.Errorf("mongodb at %s: %w", config.MaskURI(cfg.Mongo.URI), err)
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		return err
	}
	rules, err := review.NewRuleHolder(cfg.Detect.RulesFile, cfg.Detect.WatchlistFile, configs.Rules, configs.Watchlist)
	if err != nil {
		return err
	}
	events, signals := mongostore.NewEventStore(db), mongostore.NewSignalStore(db)
	cases, disclosures, auditStore := mongostore.NewCaseStore(db), mongostore.NewDisclosureStore(db), mongostore.NewAuditStore(db)
	engine := &review.Engine{
		Rules: rules, Employees: mongostore.NewEmployeeStore(db), Signals: signals, Seminars: signals,
		Engagements: review.DisclosureEngagements{Store: disclosures}, Cases: cases, Audit: auditStore, Now: time.Now,
	}
	var bar *progressbar.ProgressBar
	stage := ""
	rs := &review.Rescan{
		Engine: engine, Events: events, Signals: signals, PageSize: pageSize,
		Others: []review.EmployeeLister{review.DisclosureEngagements{Store: disclosures}, review.OpenCases{Store: cases}},
		Progress: func(p review.RescanProgress) {
			if p.Stage != stage {
				if bar != nil {
					_ = bar.Finish()
				}
				stage = p.Stage
				bar = progressbar.NewOptions(p.Total,
					progressbar.OptionSetWriter(progress),
					progressbar.OptionSetDescription(p.Stage),
					progressbar.OptionShowCount(),
					progressbar.OptionSetWidth(30),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
				)
			}
			bar.ChangeMax(p.Total)
			_ = bar.Set(p.Done)
		},
	}
	start := time.Now()
	res, err := rs.Run(ctx)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	if err := auditStore.Append(ctx, audit.Entry{
		ID: audit.NewID(), At: time.Now(), Actor: audit.SystemActor, Action: audit.ActionRescan,
		ResourceType: audit.ResourceWatchlist, Reason: "moonlight rescan from the command line",
		Details: map[string]string{"events": fmt.Sprint(res.Events), "employees": fmt.Sprint(res.Employees),
			"signals": fmt.Sprint(res.Signals), "seminars": fmt.Sprint(res.Seminars)},
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rescanned %d events (%d expense signals, %d seminars) and re-evaluated %d employees in %s\n",
		res.Events, res.Signals, res.Seminars, res.Employees, time.Since(start).Round(time.Millisecond))
	return nil
}
