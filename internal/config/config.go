// Package config loads the service's one typed configuration: built-in
// defaults, then a YAML file, then MOONLIGHT_* environment variables. It is
// loaded once at start-up, validated, and logged with secrets masked.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"

	"github.com/moonlight-oss/moonlight/internal/attest"
	"github.com/moonlight-oss/moonlight/internal/auth"
	"github.com/moonlight-oss/moonlight/internal/disclosure"
	"github.com/moonlight-oss/moonlight/internal/grant"
	"github.com/moonlight-oss/moonlight/internal/incident/backtrace"
	"github.com/moonlight-oss/moonlight/internal/notify"
	"github.com/moonlight-oss/moonlight/internal/privacy"
	"github.com/moonlight-oss/moonlight/internal/retention"
)

// EnvPrefix starts every environment override, e.g. MOONLIGHT_HTTP_ADDR or
// MOONLIGHT_KAFKA_GROUP_ID (the setting's path in upper case, dots and
// underscores both written as "_").
const EnvPrefix = "MOONLIGHT_"

// Config is the whole configuration.
type Config struct {
	HTTP       HTTP           `koanf:"http"`
	Kafka      Kafka          `koanf:"kafka"`
	Mongo      Mongo          `koanf:"mongo"`
	Log        Log            `koanf:"log"`
	Auth       auth.Config    `koanf:"auth"`
	Detect     Detect         `koanf:"detect"`
	Disclosure Disclosure     `koanf:"disclosure"`
	Web        Web            `koanf:"web"`
	Events     Events         `koanf:"events"`
	Tracing    Tracing        `koanf:"tracing"`
	Business   Business       `koanf:"business"`
	Privacy    privacy.Config `koanf:"privacy"`
	// Attestation and Incident configure the launch workflow (docs/launch.md).
	Attestation attest.Config    `koanf:"attestation"`
	Incident    backtrace.Config `koanf:"incident"`
	Review      Review           `koanf:"review"`
	Notify      notify.Config    `koanf:"notify"`
	// Retention says how long each kind of data is kept (internal/retention).
	Retention retention.Config `koanf:"retention"`
}

// Review configures the reviewers' workflow.
type Review struct {
	// ConfirmRequiresSecondReviewer: a confirmed outcome takes effect only
	// when a second, different compliance reviewer agrees (four eyes).
	ConfirmRequiresSecondReviewer bool `koanf:"confirm_requires_second_reviewer"`
}

// Events configures POST /api/v1/events.
type Events struct {
	// Grants says which event types and sources each account (token
	// subject) may publish through the API; an account without a grant
	// publishes nothing. The broker enforces the same for direct producers
	// (deployments/kafka-acls.md).
	Grants grant.Set `koanf:"grants"`
}

// Tracing configures OpenTelemetry tracing; off unless an endpoint is set.
type Tracing struct {
	// Endpoint is the OTLP/HTTP collector, host:port (e.g. otel-collector:4318)
	// or a URL; empty turns tracing off.
	Endpoint string `koanf:"endpoint"`
	// Insecure sends spans over plain HTTP (a collector in the same pod or network).
	Insecure bool `koanf:"insecure"`
	// SampleRatio is the share of new traces kept (0..1); traces started
	// upstream follow the caller's decision.
	SampleRatio float64 `koanf:"sample_ratio"`
	ServiceName string  `koanf:"service_name"`
}

// Business configures the organisation's calendar.
type Business struct {
	// TimeZone is the IANA zone whose calendar days detection counts in
	// ("today", blackout windows, dates without a time) and the web UI's
	// default display zone. Instants are stored and stamped in UTC.
	TimeZone string `koanf:"time_zone"`
}

// Web configures the browser UI.
type Web struct {
	// SessionSecret seals session cookies (at least 32 bytes, the same on
	// every replica). Required in oidc mode; empty in dev mode: derived from
	// auth.dev.signing_key.
	SessionSecret auth.Secret `koanf:"session_secret"`
	// SecureCookies marks cookies Secure; "auto" does so when
	// auth.oidc.redirect_url is https. Browsers drop Secure cookies over plain http.
	SecureCookies string        `koanf:"secure_cookies"`
	SessionTTL    time.Duration `koanf:"session_ttl"`
	// SessionIdle ends a web session nobody used for this long.
	SessionIdle time.Duration `koanf:"session_idle"`
}

// Detect configures detection.
type Detect struct {
	// RulesFile and WatchlistFile override the built-in configs/rules.yaml and
	// configs/watchlist.yaml; both can be reloaded through the admin API.
	RulesFile     string `koanf:"rules_file"`
	WatchlistFile string `koanf:"watchlist_file"`
	// SweepInterval is how often employees whose declared engagement dates
	// have passed are re-evaluated (time alone can make a finding).
	SweepInterval time.Duration `koanf:"sweep_interval"`
	// RulesPollInterval is how often a replica looks for a newer rule-set
	// version in MongoDB (no change streams on FerretDB).
	RulesPollInterval time.Duration `koanf:"rules_poll_interval"`
	// RescanPollInterval is how often a replica looks for a rescan job to
	// start or take over; RescanLeaseTTL is how long a dead replica's job
	// waits before another takes it over.
	RescanPollInterval time.Duration `koanf:"rescan_poll_interval"`
	RescanLeaseTTL     time.Duration `koanf:"rescan_lease_ttl"`
	RescanPageSize     int           `koanf:"rescan_page_size"`
	// DrainInterval is how often re-evaluations left after disclosure
	// changes (a failed re-evaluation) are retried.
	DrainInterval time.Duration `koanf:"drain_interval"`
}

// Disclosure configures declarations.
type Disclosure struct {
	Policy disclosure.Policy `koanf:"policy"`
	Limits disclosure.Limits `koanf:"limits"`
	// Validity: how long approvals of recurring engagements hold.
	Validity disclosure.Validity `koanf:"validity"`
}

// DemoSigningKey signs development tokens in `moonlight demo` and when no key
// is configured. `moonlight serve` refuses to run with it.
const DemoSigningKey = "moonlight-demo-signing-key--not-for-production"

// HTTP configures the HTTP server.
type HTTP struct {
	Addr string `koanf:"addr"`
	// AdminAddr, when set, serves /metrics, /healthz and /readyz on a second
	// listener (for scrapers and probes, not exposed to users), and /metrics
	// leaves the main listener. Empty: everything on Addr.
	AdminAddr       string        `koanf:"admin_addr"`
	MaxBodyBytes    int64         `koanf:"max_body_bytes"`
	ReadTimeout     time.Duration `koanf:"read_timeout"`
	WriteTimeout    time.Duration `koanf:"write_timeout"`
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
}

// Kafka configures the consumers and producers.
type Kafka struct {
	Brokers        []string      `koanf:"brokers"`
	GroupID        string        `koanf:"group_id"`
	Topics         Topics        `koanf:"topics"`
	DLQSuffix      string        `koanf:"dlq_suffix"`
	BatchSize      int           `koanf:"batch_size"`
	BatchWait      time.Duration `koanf:"batch_wait"`
	MaxEventBytes  int           `koanf:"max_event_bytes"`
	RetryMinWait   time.Duration `koanf:"retry_min_wait"`
	RetryMaxWait   time.Duration `koanf:"retry_max_wait"`
	SessionTimeout time.Duration `koanf:"session_timeout"`
	// Partitions is used when Moonlight creates a missing topic.
	Partitions int `koanf:"partitions"`
	// Sources limits each input topic to the CloudEvents sources listed;
	// an empty list accepts any source.
	Sources TopicSources `koanf:"sources"`
}

// TopicSources lists the sources each input topic accepts (empty: any).
type TopicSources struct {
	HR      []string `koanf:"hr"`
	Expense []string `koanf:"expense"`
	Intel   []string `koanf:"intel"`
}

// Topics names the input topics.
type Topics struct {
	HR      string `koanf:"hr"`
	Expense string `koanf:"expense"`
	Intel   string `koanf:"intel"`
}

// All returns the input topics.
func (t Topics) All() []string { return []string{t.HR, t.Expense, t.Intel} }

// Mongo configures the database.
type Mongo struct {
	URI      string        `koanf:"uri"`
	Database string        `koanf:"database"`
	Timeout  time.Duration `koanf:"timeout"`
}

// Log configures logging.
type Log struct {
	Level  string `koanf:"level"`
	Format string `koanf:"format"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		HTTP: HTTP{
			Addr: "127.0.0.1:8080", MaxBodyBytes: 64 << 10,
			ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, ShutdownTimeout: 10 * time.Second,
		},
		Kafka: Kafka{
			Brokers: []string{"127.0.0.1:9092"}, GroupID: "moonlight",
			Topics:    Topics{HR: "hr.events", Expense: "expense.events", Intel: "intel.events"},
			DLQSuffix: ".dlq", BatchSize: 500, BatchWait: 100 * time.Millisecond, MaxEventBytes: 1 << 20,
			RetryMinWait: 200 * time.Millisecond, RetryMaxWait: 10 * time.Second, SessionTimeout: 10 * time.Second, Partitions: 3,
		},
		Mongo: Mongo{URI: "mongodb://127.0.0.1:27017/", Database: "moonlight", Timeout: 30 * time.Second},
		Log:   Log{Level: "info", Format: "text"},
		Auth:  demoAuth(),
		Detect: Detect{SweepInterval: time.Hour, RulesPollInterval: 2 * time.Second, RescanPollInterval: 2 * time.Second,
			RescanLeaseTTL: 30 * time.Second, RescanPageSize: 200, DrainInterval: 30 * time.Second},
		Disclosure: Disclosure{Policy: disclosure.DefaultPolicy(), Limits: disclosure.DefaultLimits(), Validity: disclosure.DefaultValidity()},
		Web:        Web{SecureCookies: "auto", SessionTTL: 8 * time.Hour, SessionIdle: 30 * time.Minute},
		Tracing:    Tracing{SampleRatio: 1, ServiceName: "moonlight"},
		Business:   Business{TimeZone: "Asia/Shanghai"},
		Privacy:    privacy.DefaultConfig(),
		Review:     Review{ConfirmRequiresSecondReviewer: true},
		Notify:     notify.DefaultConfig(),

		Attestation: attest.DefaultConfig(),
		Incident:    backtrace.DefaultConfig(),
		Retention:   retention.DefaultConfig(),
	}
}

func demoAuth() auth.Config {
	a := auth.DefaultConfig()
	a.Dev.SigningKey = DemoSigningKey
	return a
}

// Load reads defaults, then path (if not empty), then the environment.
func Load(path string, environ []string) (Config, error) {
	k := koanf.New(".")
	if err := k.Load(structs.Provider(Default(), "koanf"), nil); err != nil {
		return Config{}, fmt.Errorf("load defaults: %w", err)
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return Config{}, fmt.Errorf("config file: %w", err)
		}
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	known := map[string]string{}
	for _, key := range k.Keys() {
		known[envName(key)] = key
	}
	var unknown []string
	envProvider := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			key, ok := known[name]
			if !ok {
				if !ignoredEnv[name] {
					unknown = append(unknown, name)
				}
				return "", nil
			}
			if _, isList := k.Get(key).([]string); isList || key == "kafka.brokers" {
				return key, splitList(value)
			}
			return key, value
		},
	})
	if err := k.Load(envProvider, nil); err != nil {
		return Config{}, fmt.Errorf("load environment: %w", err)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Config{}, fmt.Errorf("unknown environment settings %s (settings are %s)",
			strings.Join(unknown, ", "), strings.Join(knownNames(known), ", "))
	}
	cfg := Default()
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ignoredEnv are MOONLIGHT_* variables read elsewhere (tests, scripts), not settings.
var ignoredEnv = map[string]bool{
	"MOONLIGHT_TEST_MONGO_URI":     true,
	"MOONLIGHT_TEST_KAFKA_BROKERS": true,
	"MOONLIGHT_SERVICES_DIR":       true,
	"MOONLIGHT_CONFIG":             true,
}

func envName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func knownNames(known map[string]string) []string {
	out := make([]string, 0, len(known))
	for n := range known {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.HTTP.Addr != "", "http.addr must be set (host:port)")
	check(c.HTTP.MaxBodyBytes >= 1024, "http.max_body_bytes must be at least 1024, got %d", c.HTTP.MaxBodyBytes)
	check(len(c.Kafka.Brokers) > 0, "kafka.brokers must list at least one host:port")
	check(c.Kafka.GroupID != "", "kafka.group_id must be set")
	check(c.Kafka.Topics.HR != "" && c.Kafka.Topics.Expense != "" && c.Kafka.Topics.Intel != "",
		"kafka.topics.hr, .expense and .intel must all be set")
	check(c.Kafka.DLQSuffix != "", "kafka.dlq_suffix must be set (e.g. .dlq)")
	for _, ts := range []struct {
		name string
		list []string
	}{{"hr", c.Kafka.Sources.HR}, {"expense", c.Kafka.Sources.Expense}, {"intel", c.Kafka.Sources.Intel}} {
		for _, src := range ts.list {
			check(src != "", "kafka.sources.%s must not list an empty source", ts.name)
		}
	}
	check(c.Kafka.BatchSize >= 1 && c.Kafka.BatchSize <= 10000, "kafka.batch_size must be 1..10000, got %d", c.Kafka.BatchSize)
	check(c.Kafka.Partitions >= 1, "kafka.partitions must be at least 1")
	check(c.Kafka.BatchWait > 0, "kafka.batch_wait must be positive")
	check(c.Kafka.MaxEventBytes >= 1024, "kafka.max_event_bytes must be at least 1024")
	check(c.Kafka.RetryMinWait > 0 && c.Kafka.RetryMaxWait >= c.Kafka.RetryMinWait,
		"kafka.retry_min_wait must be positive and not above kafka.retry_max_wait")
	if u, err := url.Parse(c.Mongo.URI); err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
		errs = append(errs, errors.New("mongo.uri must be a mongodb:// or mongodb+srv:// URI"))
	}
	check(c.Mongo.Database != "", "mongo.database must be set")
	check(c.Log.Level == "debug" || c.Log.Level == "info" || c.Log.Level == "warn" || c.Log.Level == "error",
		"log.level must be debug, info, warn or error, got %q", c.Log.Level)
	check(c.Log.Format == "text" || c.Log.Format == "json", "log.format must be text or json, got %q", c.Log.Format)
	check(c.Detect.SweepInterval >= time.Minute, "detect.sweep_interval must be at least 1m")
	check(c.Detect.RulesPollInterval >= 100*time.Millisecond, "detect.rules_poll_interval must be at least 100ms")
	check(c.Detect.RescanPollInterval >= 100*time.Millisecond, "detect.rescan_poll_interval must be at least 100ms")
	check(c.Detect.RescanLeaseTTL >= time.Second, "detect.rescan_lease_ttl must be at least 1s")
	check(c.Detect.RescanPageSize >= 1 && c.Detect.RescanPageSize <= 5000, "detect.rescan_page_size must be 1 to 5000")
	check(c.Detect.DrainInterval >= 100*time.Millisecond, "detect.drain_interval must be at least 100ms")
	check(c.Web.SecureCookies == "auto" || c.Web.SecureCookies == "true" || c.Web.SecureCookies == "false",
		"web.secure_cookies must be auto, true or false, got %q", c.Web.SecureCookies)
	check(c.Web.SessionSecret == "" || len(c.Web.SessionSecret) >= 32, "web.session_secret must be at least 32 bytes")
	check(c.Web.SessionTTL >= time.Minute, "web.session_ttl must be at least 1m")
	check(c.Web.SessionIdle >= time.Minute && c.Web.SessionIdle <= c.Web.SessionTTL,
		"web.session_idle must be at least 1m and at most web.session_ttl")
	check(c.HTTP.AdminAddr == "" || c.HTTP.AdminAddr != c.HTTP.Addr, "http.admin_addr must differ from http.addr (or be empty)")
	check(c.Tracing.SampleRatio >= 0 && c.Tracing.SampleRatio <= 1, "tracing.sample_ratio must be 0..1, got %g", c.Tracing.SampleRatio)
	if _, err := c.Business.Location(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Auth.Mode == auth.ModeOIDC {
		// The web sign-in's cookie key has its own secret, and its callback
		// comes only from here (never from a request's Host header).
		check(c.Web.SessionSecret != "", "web.session_secret must be set in oidc mode (not derived from the client secret)")
		check(c.Auth.OIDC.RedirectURL != "", "auth.oidc.redirect_url must be set in oidc mode")
	}
	if err := c.Notify.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Disclosure.Validity.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Privacy.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Attestation.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Incident.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Auth.Mode == auth.ModeOIDC {
		check(c.Privacy.PseudonymKey != "", "privacy.pseudonym_key must be set in oidc mode (at least %d bytes, the same on every replica)", privacy.MinKeyBytes)
	}
	if err := c.Retention.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Events.Grants.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	return nil
}

// Location returns the business time zone.
func (b Business) Location() (*time.Location, error) {
	if b.TimeZone == "" {
		return nil, errors.New("business.time_zone must be set (an IANA zone such as Asia/Shanghai)")
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("business.time_zone %q is not a known IANA zone: %w", b.TimeZone, err)
	}
	return loc, nil
}

// MaskURI hides the secrets of a MongoDB connection URI: the password of
// the user info and the values of secret options (a password, a key, a
// token). It does not rely on net/url: a password with an unescaped "/" or
// "@", or several hosts, make url.Parse misread the URI and print the rest
// of the password as a path.
func MaskURI(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "(unparsable)"
	}
	query := ""
	if i := strings.LastIndex(rest, "?"); i >= 0 && i > strings.LastIndex(rest, "@") {
		rest, query = rest[:i], rest[i+1:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, _, hasPassword := strings.Cut(rest[:at], ":")
		if hasPassword {
			user += ":xxxxx"
		}
		rest = user + "@" + rest[at+1:]
	}
	out := scheme + "://" + rest
	if query == "" {
		return out
	}
	opts := strings.Split(query, "&")
	for i, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		if secretOption(k) && v != "" {
			opts[i] = k + "=xxxxx"
		}
	}
	return out + "?" + strings.Join(opts, "&")
}

// secretOption reports whether a connection-string option carries a
// secret (tlsCertificateKeyFilePassword, authMechanismProperties with
// AWS_SESSION_TOKEN, proxyPassword, ...).
func secretOption(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"password", "secret", "token", "authmechanismproperties", "key"} {
		if strings.Contains(k, w) && k != "tlscertificatekeyfile" && k != "tlscafile" {
			return true
		}
	}
	return false
}

// Masked returns a copy safe to log: passwords and keys replaced.
func (c Config) Masked() Config {
	m := c
	m.Mongo.URI = MaskURI(c.Mongo.URI)
	m.Notify = c.Notify.Masked()
	return m
}
