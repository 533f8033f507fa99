//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/mongostore"
	"github.com/moonlight-oss/moonlight/internal/smtpsink"
)

// startMailSink runs the demo's SMTP sink on addr, storing what it receives
// in the demo database (so /admin/mail on any replica shows it), and points
// the notification settings at it: mail over plain SMTP to the sink, the
// sample's compliance officer on duty, links to the demo's web address.
// Settings given in the config file or environment win.
func startMailSink(ctx context.Context, cfg *config.Config, addr string, log *slog.Logger) (func(), error) {
	db, err := mongostore.Connect(cfg.Mongo.URI, cfg.Mongo.Database, cfg.Mongo.Timeout)
	if err != nil {
		return nil, err
	}
	sink, err := smtpsink.Start(addr, mongostore.NewMailSink(db), log)
	if err != nil {
		_ = db.Close(ctx)
		return nil, err
	}
	host, port, _ := net.SplitHostPort(sink.Addr())
	n := &cfg.Notify
	if n.SMTP.Host == "" {
		p, _ := strconv.Atoi(port)
		n.SMTP.Host, n.SMTP.Port, n.SMTP.TLS, n.SMTP.From = host, p, "none", "moonlight@moonlight-demo.local"
	}
	if len(n.OnDuty) == 0 {
		n.OnDuty = []string{"E1045"} // 郑雪, the sample's compliance officer
	}
	if n.BaseURL == "" {
		n.BaseURL = "http://" + cfg.HTTP.Addr
	}
	log.Info("demo SMTP sink (mail shown on /admin/mail)", "addr", sink.Addr())
	return func() {
		if err := sink.Close(); err != nil {
			log.Warn("stop smtp sink", "err", err)
		}
		_ = db.Close(context.WithoutCancel(ctx))
	}, nil
}

func sinkBanner(cfg config.Config) string {
	return fmt.Sprintf("  Mail (sink):   smtp://%s:%d   (received mail: /admin/mail, as an admin)\n", cfg.Notify.SMTP.Host, cfg.Notify.SMTP.Port)
}
