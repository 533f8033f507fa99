package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/embedded"
	"github.com/moonlight-oss/moonlight/internal/service"
)

func rootCommand(environ []string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "moonlight",
		Short:         "Find employees in unapproved paid research seminars and expert-network calls",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	var cfgPath string
	root.PersistentFlags().StringVar(&cfgPath, "config", envOr(environ, "MOONLIGHT_CONFIG", ""), "YAML config file (env MOONLIGHT_CONFIG)")
	load := func() (config.Config, error) { return config.Load(cfgPath, environ) }
	root.AddCommand(
		demoCommand(load, stdout, stderr),
		serveCommand(load, stderr),
		tokenCommand(load, stdout),
		produceCommand(load, stdout),
		rescanCommand(load, stdout),
		dlqCommand(load, stdout),
		embeddedMongoCommand(stdout, stderr), embeddedKafkaCommand(stdout),
	)
	return root
}

func envOr(environ []string, name, def string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return def
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serveCommand(load func() (config.Config, error), stderr io.Writer) *cobra.Command {
	var insecureDevAuth bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run against the Kafka brokers and MongoDB named in the config",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			log := newLogger(cfg, stderr)
			if cfg, err = serveAuth(cfg, insecureDevAuth, log); err != nil {
				return err
			}
			log.Info("starting moonlight serve", "config", fmt.Sprintf("%+v", cfg.Masked()))
			return runService(cmd.Context(), cfg, log, nil)
		},
	}
	cmd.Flags().BoolVar(&insecureDevAuth, "insecure-dev-auth", false,
		"accept auth.mode dev (anyone can sign in as anyone): binds to loopback only; never in production")
	return cmd
}

// serveAuth applies the production rule for authentication: `serve` refuses
// auth.mode dev, whose sign-in page lets anyone become any employee with any
// role, unless insecure is set; then it binds to loopback only and says so at
// every start. The demo's public signing key is refused either way.
func serveAuth(cfg config.Config, insecure bool, log *slog.Logger) (config.Config, error) {
	if cfg.Auth.Mode != auth.ModeDev {
		return cfg, nil
	}
	if !insecure {
		return cfg, fmt.Errorf("refusing to serve with auth.mode dev: anyone could sign in as anyone. " +
			"Set auth.mode: oidc for production, or pass --insecure-dev-auth for a local, loopback-only experiment")
	}
	if string(cfg.Auth.Dev.SigningKey) == config.DemoSigningKey {
		return cfg, fmt.Errorf("refusing to serve with the demo signing key, which is public: set auth.dev.signing_key (MOONLIGHT_AUTH_DEV_SIGNING_KEY)")
	}
	_, port, err := net.SplitHostPort(cfg.HTTP.Addr)
	if err != nil {
		return cfg, fmt.Errorf("http.addr %q: %w", cfg.HTTP.Addr, err)
	}
	loopback := net.JoinHostPort("127.0.0.1", port)
	log.Warn("INSECURE: development sign-in is on (--insecure-dev-auth): anyone who reaches this port can act as any employee with any role; listening on loopback only",
		"configured_addr", cfg.HTTP.Addr, "addr", loopback)
	cfg.HTTP.Addr = loopback
	return cfg, nil
}

// runService starts the service, calls started (if any) once it listens, and
// runs until ctx is cancelled.
func runService(ctx context.Context, cfg config.Config, log *slog.Logger, started func(*service.Service, string) error) error {
	svc, err := service.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := svc.Close(cctx); err != nil {
			log.Warn("close", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	if started != nil {
		if err := started(svc, ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}
	log.Info("listening", "addr", ln.Addr().String())
	return svc.Run(ctx, ln)
}

func demoCommand(load func() (config.Config, error), stdout, stderr io.Writer) *cobra.Command {
	var (
		dataDir, httpAddr, kafkaAddr, mongoAddr string
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
			log.Info("starting moonlight demo", "config", fmt.Sprintf("%+v", cfg.Masked()))
			return runService(ctx, cfg, log, func(svc *service.Service, addr string) error {
				printDemoBanner(stdout, addr, cfg)
				if !empty {
					// In the background: the consumers it waits for start after this returns.
					go func() {
						if err := loadSample(ctx, svc, stdout); err != nil && ctx.Err() == nil {
							log.Error("loading the sample data failed", "err", err)
						}
					}()
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
	return cmd
}

func printDemoBanner(w io.Writer, addr string, cfg config.Config) {
	fmt.Fprintf(w, `
Moonlight demo is running.
  Web and API:   http://%s   (health: /healthz, ready: /readyz, metrics: /metrics, API description: /openapi.yaml)
  Kafka broker:  %s   (topics %s, %s, %s; dead letters in <topic>%s)
  MongoDB URI:   %s   (database %q)
  Get a token:   go run ./cmd/moonlight token --subject E1001 --role employee
                 go run ./cmd/moonlight token --subject E1045 --role compliance
  Then:          curl -H "Authorization: Bearer $TOKEN" http://%s/api/v1/me/disclosures
Press Ctrl-C to stop.
`, addr, strings.Join(cfg.Kafka.Brokers, ","), cfg.Kafka.Topics.HR, cfg.Kafka.Topics.Expense, cfg.Kafka.Topics.Intel,
		cfg.Kafka.DLQSuffix, cfg.Mongo.URI, cfg.Mongo.Database, addr)
}

func tokenCommand(load func() (config.Config, error), stdout io.Writer) *cobra.Command {
	var (
		subject string
		roles   []string
	)
	cmd := &cobra.Command{
		Use:   "token --subject ID --role ROLE [--role ROLE]",
		Short: "Print a signed bearer token of the development identity provider (auth mode dev only)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			for _, r := range roles {
				if !auth.IsKnownRole(r) {
					return fmt.Errorf("unknown role %q (roles: %s)", r, strings.Join(auth.KnownRoles(), ", "))
				}
			}
			tok, err := auth.IssueDevToken(cfg.Auth, subject, roles, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "employee id (the token's sub)")
	cmd.Flags().StringArrayVar(&roles, "role", nil, "role (repeatable): "+strings.Join(auth.KnownRoles(), ", "))
	_ = cmd.MarkFlagRequired("subject")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}
