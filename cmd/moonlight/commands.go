package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/config"
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
		healthcheckCommand(stdout),
		purgeCommand(load, stdout),
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
