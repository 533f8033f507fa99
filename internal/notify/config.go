package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/moonlight-oss/moonlight/internal/auth"
)

// Config is the notify.* section of the configuration.
type Config struct {
	// Enabled runs the dispatcher on this replica (every replica may: claims
	// keep a notice from being sent twice). Notices are written either way.
	Enabled bool `koanf:"enabled"`
	SMTP    SMTP `koanf:"smtp"`
	// Webhooks receive the notices addressed to a list (the compliance
	// on-duty list), never a person's own notices: a team chat is no place
	// for one employee's declaration.
	Webhooks []Webhook `koanf:"webhooks"`
	// OnDuty is the compliance on-duty list: employee ids (their HR e-mail
	// address is used) or e-mail addresses.
	OnDuty []string `koanf:"on_duty"`
	// DigestTime is when, in the business time zone, the daily digest of
	// open cases goes to the on-duty list ("HH:MM"; empty: no digest).
	DigestTime string `koanf:"digest_time"`
	// Language is used for a recipient without one in their profile ("en" or "zh").
	Language string `koanf:"language"`
	// BaseURL starts the links in messages (https://moonlight.example.com).
	BaseURL string `koanf:"base_url"`
	// PollInterval is how often the dispatcher looks for work.
	PollInterval time.Duration `koanf:"poll_interval"`
	// MaxAttempts bounds deliveries of one message before it is marked failed.
	MaxAttempts int `koanf:"max_attempts"`
	// RetryMin and RetryMax bound the exponential backoff between attempts.
	RetryMin time.Duration `koanf:"retry_min"`
	RetryMax time.Duration `koanf:"retry_max"`
	// SendTimeout bounds one attempt; a claim lasts four times as long, so a
	// live sender is never taken over.
	SendTimeout time.Duration `koanf:"send_timeout"`
	// CauseGrace is how long a notice waits for the change it announces to
	// be stored before it is cancelled.
	CauseGrace time.Duration `koanf:"cause_grace"`
	// ExpiryReminderDays: an approval that lapses within this many days
	// reminds its employee once.
	ExpiryReminderDays int `koanf:"expiry_reminder_days"`
}

// SMTP is the outgoing mail server. Host empty: no mail is sent (notices
// to people stay in the outbox with a note).
type SMTP struct {
	Host string `koanf:"host"`
	Port int    `koanf:"port"`
	From string `koanf:"from"`
	// TLS is "starttls" (required), "tls" (implicit, port 465) or "none"
	// (a relay on the same host, the demo's sink).
	TLS      string      `koanf:"tls"`
	Username string      `koanf:"username"`
	Password auth.Secret `koanf:"password" secret:"true"`
}

// Webhook kinds: each has its own payload shape (and DingTalk and Feishu
// their own signatures, besides ours).
const (
	WebhookGeneric  = "generic"
	WebhookWeCom    = "wecom"
	WebhookDingTalk = "dingtalk"
	WebhookFeishu   = "feishu"
	WebhookSlack    = "slack"
)

// Webhook is one incoming-webhook endpoint.
type Webhook struct {
	// Name identifies the endpoint in delivery ids; keep it when changing
	// the URL, or notices already expanded go nowhere.
	Name string `koanf:"name"`
	Kind string `koanf:"kind"`
	URL  string `koanf:"url"`
	// Secret signs every request (X-Moonlight-Signature); for DingTalk and
	// Feishu it is also the robot's signing secret.
	Secret auth.Secret `koanf:"secret" secret:"true"`
	// Lists are the recipient lists it receives; empty: the compliance on-duty list.
	Lists []string `koanf:"lists"`
}

// DefaultConfig is a dispatcher with no channel configured.
func DefaultConfig() Config {
	return Config{
		Enabled: true, SMTP: SMTP{Port: 587, TLS: "starttls"}, Language: "en",
		DigestTime: "08:30", PollInterval: 2 * time.Second, MaxAttempts: 8,
		RetryMin: 5 * time.Second, RetryMax: 30 * time.Minute, SendTimeout: 30 * time.Second,
		CauseGrace: 10 * time.Minute, ExpiryReminderDays: 30,
	}
}

// Languages the templates exist in.
var Languages = []string{"en", "zh"}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(slices.Contains(Languages, c.Language), "notify.language must be en or zh, got %q", c.Language)
	check(c.PollInterval > 0, "notify.poll_interval must be positive")
	check(c.MaxAttempts >= 1, "notify.max_attempts must be at least 1")
	check(c.RetryMin > 0 && c.RetryMax >= c.RetryMin, "notify.retry_min must be positive and notify.retry_max at least as long")
	check(c.SendTimeout > 0, "notify.send_timeout must be positive")
	check(c.CauseGrace > 0, "notify.cause_grace must be positive")
	check(c.ExpiryReminderDays >= 1, "notify.expiry_reminder_days must be at least 1")
	if c.DigestTime != "" {
		_, err := time.Parse("15:04", c.DigestTime)
		check(err == nil, "notify.digest_time must be HH:MM, got %q", c.DigestTime)
	}
	if c.SMTP.Host != "" {
		check(c.SMTP.Port > 0 && c.SMTP.Port < 65536, "notify.smtp.port must be 1..65535")
		_, err := mail.ParseAddress(c.SMTP.From)
		check(err == nil, "notify.smtp.from must be an e-mail address, got %q", c.SMTP.From)
		check(slices.Contains([]string{"starttls", "tls", "none"}, c.SMTP.TLS), "notify.smtp.tls must be starttls, tls or none")
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "notify.base_url must be an http(s) URL")
	}
	names := map[string]bool{}
	for i, w := range c.Webhooks {
		check(w.Name != "" && !strings.ContainsAny(w.Name, "|:/ "), "notify.webhooks[%d].name must be set (no |, :, / or spaces)", i)
		check(!names[w.Name], "notify.webhooks[%d].name %q is used twice", i, w.Name)
		names[w.Name] = true
		check(slices.Contains([]string{WebhookGeneric, WebhookWeCom, WebhookDingTalk, WebhookFeishu, WebhookSlack}, w.Kind),
			"notify.webhooks[%d].kind must be generic, wecom, dingtalk, feishu or slack, got %q", i, w.Kind)
		u, err := url.Parse(w.URL)
		check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "notify.webhooks[%d].url must be an http(s) URL", i)
	}
	for i, o := range c.OnDuty {
		check(strings.TrimSpace(o) != "", "notify.on_duty[%d] must not be empty", i)
	}
	return errors.Join(errs...)
}

// ListName is the list a recipient like "list:compliance-on-duty" names.
func ListName(recipient string) (string, bool) {
	return strings.CutPrefix(recipient, "list:")
}

// Masked is c with the webhooks' URLs cut to scheme and host: WeCom,
// DingTalk, Feishu and Slack put the credential in the URL.
func (c Config) Masked() Config {
	m := c
	m.Webhooks = slices.Clone(c.Webhooks)
	for i, w := range m.Webhooks {
		if u, err := url.Parse(w.URL); err == nil && u.Host != "" {
			m.Webhooks[i].URL = u.Scheme + "://" + u.Host + "/[redacted]"
		} else {
			m.Webhooks[i].URL = "[redacted]"
		}
	}
	return m
}
