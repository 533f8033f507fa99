//go:build !nodemo

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/embedded"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/service"
)

// The demo embeds franz-go's kfake and FerretDB; `go build -tags nodemo`
// leaves both out (nodemo.go), which is the production image's build.

func demoCommand(load func() (config.Config, error), stdout, stderr io.Writer) *cobra.Command {
	var (
		dataDir, httpAddr, kafkaAddr, mongoAddr string
		smtpAddr                                string
		empty                                   bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything on this machine: embedded Kafka-protocol broker and MongoDB-wire database, sample data",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := load()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("http") || os.Getenv("MOONLIGHT_HTTP_ADDR") == "" {
				if cmd.Flags().Changed("http") {
					cfg.HTTP.Addr = httpAddr
				}
			}
			demoPrivacy(&cfg, cmd.Root().PersistentFlags().Changed("config") || os.Getenv("MOONLIGHT_CONFIG") != "")
			log := newLogger(cfg, stderr)
			broker, err := embedded.StartBroker(embedded.BrokerConfig{
				Addr: kafkaAddr, DataDir: filepath.Join(dataDir, "kafka"), Topics: nil, Partitions: int32(cfg.Kafka.Partitions),
			})
			if err != nil {
				return err
			}
			defer broker.Close()
			db, err := embedded.StartDatabase(mongoAddr, filepath.Join(dataDir, "ferretdb"), nil)
			if err != nil {
				return err
			}
			defer func() {
				if err := db.Close(); err != nil {
					log.Warn("stop embedded database", "err", err)
				}
			}()
			cfg.Kafka.Brokers = broker.Addrs()
			cfg.Mongo.URI = db.URI()
			stopSink, err := startMailSink(ctx, &cfg, smtpAddr, log)
			if err != nil {
				return err
			}
			defer stopSink()
			log.Info("starting moonlight demo", "config", fmt.Sprintf("%+v", cfg.Masked()))
			return runService(ctx, cfg, log, func(svc *service.Service, addr string) error {
				printDemoBanner(stdout, addr, cfg)
				fmt.Fprint(stdout, sinkBanner(cfg))
				if !empty {
					// In the background: the consumers it waits for start after this returns.
					go func() {
						if err := loadSample(ctx, svc, stdout); err != nil && ctx.Err() == nil {
							log.Error("loading the sample data failed", "err", err)
							return
						}
						// Only now: a newcomer who opens the page sees the sample cases (issue 14).
						printReady(stdout, addr)
					}()
				} else {
					printReady(stdout, addr)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "directory for the embedded broker's and database's files")
	cmd.Flags().StringVar(&httpAddr, "http", "127.0.0.1:8080", "HTTP listen address (or MOONLIGHT_HTTP_ADDR)")
	cmd.Flags().StringVar(&kafkaAddr, "kafka-addr", "127.0.0.1:9092", "embedded Kafka-protocol broker address")
	cmd.Flags().StringVar(&mongoAddr, "mongo-addr", "127.0.0.1:27017", "embedded MongoDB-wire database address")
	cmd.Flags().BoolVar(&empty, "empty", false, "do not load the sample data set")
	cmd.Flags().StringVar(&smtpAddr, "smtp-addr", "127.0.0.1:0", "the demo's SMTP sink address (default: any free port)")
	return cmd
}

// demoPrivacy makes the demo show the two-person unmask flow (a reviewer
// asks, a privacy officer approves) unless a config file or
// MOONLIGHT_PRIVACY_UNMASK says otherwise: the defaults (self) are for
// deployments, the demo is for seeing the whole flow.
func demoPrivacy(cfg *config.Config, fromFile bool) {
	if !fromFile && os.Getenv("MOONLIGHT_PRIVACY_UNMASK") == "" {
		cfg.Privacy.Unmask = privacy.UnmaskTwoPerson
	}
}

// printReady says the demo can be used: after the sample data set is
// loaded and evaluated (or at once with --empty).
func printReady(w io.Writer, addr string) {
	fmt.Fprintf(w, "Ready: open http://%s and sign in as a sample person.\n", addr)
}

func printDemoBanner(w io.Writer, addr string, cfg config.Config) {
	fmt.Fprintf(w, `
Moonlight demo is running.
  Web and API:   http://%s   (health: /healthz, ready: /readyz, metrics: /metrics, API description: /openapi.yaml)
  Kafka broker:  %s   (topics %s, %s, %s; dead letters in <topic>%s)
  MongoDB URI:   %s   (database %q)
  Get a token:   go run ./cmd/moonlight token --subject E1018 --role employee
                 go run ./cmd/moonlight token --subject E1045 --role compliance
  Then:          curl -H "Authorization: Bearer $TOKEN" http://%s/api/v1/me/disclosures
A "Ready" line follows once the sample data set (unless --empty) is in. Press Ctrl-C to stop.
`, addr, strings.Join(cfg.Kafka.Brokers, ","), cfg.Kafka.Topics.HR, cfg.Kafka.Topics.Expense, cfg.Kafka.Topics.Intel,
		cfg.Kafka.DLQSuffix, cfg.Mongo.URI, cfg.Mongo.Database, addr)
}
