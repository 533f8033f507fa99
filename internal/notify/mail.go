package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Mailer sends e-mail over SMTP (wneessen/go-mail). Every attempt of one
// delivery carries the same Message-ID, so a receiving system that saw an
// interrupted attempt's mail can drop the repeat.
type Mailer struct {
	cfg    SMTP
	domain string
}

// NewMailer returns the mail channel, or nil when no SMTP host is configured.
func NewMailer(cfg SMTP) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, nil
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notify.smtp.from: %w", err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &Mailer{cfg: cfg, domain: domain}, nil
}

// MessageID is the Message-ID (without angle brackets) of every attempt of
// a delivery.
func (m *Mailer) MessageID(key string) string { return "notice-" + key + "@" + m.domain }

// Send implements Channel.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	g := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8))
	if err := g.From(m.cfg.From); err != nil {
		return Permanent(fmt.Errorf("from address: %w", err))
	}
	if err := g.To(msg.To); err != nil {
		return Permanent(fmt.Errorf("to address: %w", err))
	}
	g.Subject(msg.Subject)
	g.SetMessageIDWithValue(m.MessageID(msg.Key))
	g.SetDateWithValue(msg.At)
	g.SetGenHeader("X-Moonlight-Notice", msg.Kind)
	g.SetGenHeader("X-Moonlight-Delivery", msg.Key)
	g.SetGenHeader("Auto-Submitted", "auto-generated")
	g.SetBodyString(gomail.TypeTextPlain, msg.Body)

	opts := []gomail.Option{gomail.WithPort(m.cfg.Port)}
	if dl, ok := ctx.Deadline(); ok {
		opts = append(opts, gomail.WithTimeout(max(time.Second, time.Until(dl))))
	}
	switch m.cfg.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(m.cfg.Username),
			gomail.WithPassword(string(m.cfg.Password)))
	}
	c, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return Permanent(fmt.Errorf("smtp client: %w", err))
	}
	if err := c.DialAndSendWithContext(ctx, g); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return Permanent(fmt.Errorf("smtp refused: %w", err))
		}
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}
