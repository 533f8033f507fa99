package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/evaluate"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/rescan"
	"github.com/moonlight-oss/moonlight/internal/service"
)

// rescanCommand starts a rescan job (or follows the one under way) and shows
// its progress until it is done. Only MongoDB is needed: this process works
// on the job too, alongside any running replicas (one at a time, by lease);
// if it is stopped, a replica or the next `moonlight rescan` finishes it.
func rescanCommand(load func() (config.Config, error), stdout io.Writer) *cobra.Command {
	var pageSize int
	cmd := &cobra.Command{
		Use:   "rescan",
		Short: "Re-evaluate stored events after a rules or watchlist change, as a durable job (idempotent)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			if pageSize > 0 {
				cfg.Detect.RescanPageSize = pageSize
			}
			return runRescan(cmd.Context(), cfg, stdout, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().IntVar(&pageSize, "page-size", 0, "events (then employees) per step (default: detect.rescan_page_size)")
	return cmd
}

func runRescan(ctx context.Context, cfg config.Config, stdout, progress io.Writer) error {
	db, closeDB, err := openMongo(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rules, err := service.LoadRules(ctx, db, cfg, log)
	if err != nil {
		return err
	}
	zone, err := cfg.Business.Location()
	if err != nil {
		return err
	}
	signals, disclosures := mongostore.NewSignalStore(db), mongostore.NewDisclosureStore(db)
	engine := &evaluate.Engine{
		Rules: rules, Employees: mongostore.NewEmployeeStore(db), Signals: signals, Seminars: signals, Presence: signals,
		Engagements: evaluate.DisclosureEngagements{Store: disclosures}, Cases: mongostore.NewCaseStore(db),
		Audit: mongostore.NewAuditStore(db), Now: time.Now, Zone: zone,
	}
	runner := service.NewRescanRunner(db, engine, "cli-"+service.ReplicaID(), cfg.Detect, log)
	job, err := runner.Start(ctx, rescan.Operator())
	switch {
	case errors.Is(err, rescan.ErrRunning):
		fmt.Fprintf(stdout, "following %s, which is already running\n", job.ID)
	case err != nil:
		return err
	default:
		fmt.Fprintf(stdout, "started %s (rule set version %d, %d events)\n", job.ID, job.RulesVersion, job.TotalEvents)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go rules.Run(wctx, cfg.Detect.RulesPollInterval)
	go runner.Run(wctx, cfg.Detect.RescanPollInterval)

	start := time.Now()
	var bar *progressbar.ProgressBar
	stage := ""
	for {
		p, err := runner.Progress(ctx, rescan.Operator(), job.ID)
		if err != nil {
			return err
		}
		if p.Last.Stage != stage && p.Last.Stage != rescan.StageDone {
			if bar != nil {
				_ = bar.Finish()
			}
			stage = p.Last.Stage
			total := int64(-1)
			if stage == rescan.StageEvents {
				total = p.Job.TotalEvents
			}
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(progress),
				progressbar.OptionSetDescription(stage), progressbar.OptionShowCount(), progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
		}
		if bar != nil {
			done := p.Last.Employees
			if stage == rescan.StageEvents {
				done = p.Last.Events
				bar.ChangeMax64(max(p.Job.TotalEvents, done))
			}
			_ = bar.Set64(done)
		}
		if p.Job.Done {
			if bar != nil {
				_ = bar.Finish()
			}
			fmt.Fprintf(stdout, "%s: rescanned %d events (%d expense signals, %d seminars) and re-evaluated %d employees in %s\n",
				job.ID, p.Last.Events, p.Last.Signals, p.Last.Seminars, p.Last.Employees, time.Since(start).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(stdout, "\nstopped following %s at step %d; a replica or the next `moonlight rescan` finishes it\n", job.ID, p.Last.Seq)
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}
