package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("http:\n  addr: 127.0.0.1:9999\nkafka:\n  batch_size: 50\n  brokers: [a:1, b:2]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("kafka:\n  batch_size: 0\nlog:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		give    string
		env     []string
		want    func(Config) bool
		wantErr string
	}{
		{name: "defaults", want: func(c Config) bool { return c.HTTP.Addr == "127.0.0.1:8080" && c.Kafka.Topics.HR == "hr.events" }},
		{name: "file", give: good, want: func(c Config) bool {
			return c.HTTP.Addr == "127.0.0.1:9999" && c.Kafka.BatchSize == 50 && len(c.Kafka.Brokers) == 2 && c.Kafka.GroupID == "moonlight"
		}},
		{name: "env over file", give: good, env: []string{"MOONLIGHT_HTTP_ADDR=0.0.0.0:1", "MOONLIGHT_KAFKA_BROKERS=x:1,y:2,z:3", "MOONLIGHT_KAFKA_BATCH_WAIT=2s", "MOONLIGHT_KAFKA_GROUP_ID=g2"},
			want: func(c Config) bool {
				return c.HTTP.Addr == "0.0.0.0:1" && len(c.Kafka.Brokers) == 3 && c.Kafka.BatchWait == 2*time.Second && c.Kafka.GroupID == "g2"
			}},
		{name: "topic sources", env: []string{"MOONLIGHT_KAFKA_SOURCES_HR=hris/workday-cn,hris/sap"},
			want: func(c Config) bool {
				return fmt.Sprint(c.Kafka.Sources.HR) == "[hris/workday-cn hris/sap]" && len(c.Kafka.Sources.Expense) == 0
			}},
		{name: "unknown env", env: []string{"MOONLIGHT_HTTP_ADDRESS=x"}, wantErr: "unknown environment settings MOONLIGHT_HTTP_ADDRESS"},
		{name: "invalid values listed together", give: bad, wantErr: "kafka.batch_size must be 1..10000"},
		{name: "invalid level", give: bad, wantErr: `log.level must be debug, info, warn or error, got "loud"`},
		{name: "missing file", give: filepath.Join(dir, "nope.yaml"), wantErr: "config file"},
		{name: "business zone from env", env: []string{"MOONLIGHT_BUSINESS_TIME_ZONE=Europe/Berlin", "MOONLIGHT_HTTP_ADMIN_ADDR=0.0.0.0:9090"},
			want: func(c Config) bool {
				return c.Business.TimeZone == "Europe/Berlin" && c.HTTP.AdminAddr == "0.0.0.0:9090"
			}},
		{name: "unknown zone", env: []string{"MOONLIGHT_BUSINESS_TIME_ZONE=Mars/Olympus"}, wantErr: `business.time_zone "Mars/Olympus" is not a known IANA zone`},
		{name: "admin addr equals addr", env: []string{"MOONLIGHT_HTTP_ADMIN_ADDR=127.0.0.1:8080"}, wantErr: "http.admin_addr must differ"},
		{name: "bad sample ratio", env: []string{"MOONLIGHT_TRACING_SAMPLE_RATIO=2"}, wantErr: "tracing.sample_ratio must be 0..1"},
		{name: "bad mongo uri", env: []string{"MOONLIGHT_MONGO_URI=http://x"}, wantErr: "mongo.uri must be a mongodb://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.give, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(got) {
				t.Fatalf("unexpected config %+v", got)
			}
		})
	}
}

func TestMaskURI(t *testing.T) {
	got := MaskURI("mongodb://user:s3cret@db:27017/x")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "user:xxxxx@db") {
		t.Fatalf("MaskURI = %q", got)
	}
}

// The shipped configs/moonlight.yaml documents every setting with its default.
func TestShippedConfigIsTheDefault(t *testing.T) {
	got, err := Load("../../configs/moonlight.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if fmt.Sprintf("%+v", got.Masked()) != fmt.Sprintf("%+v", want.Masked()) {
		t.Fatalf("configs/moonlight.yaml differs from the defaults:\n got %+v\nwant %+v", got.Masked(), want.Masked())
	}
}

// TestPrivacyFromEnvironment: the issue names MOONLIGHT_PRIVACY_PSEUDONYMISE.
func TestPrivacyFromEnvironment(t *testing.T) {
	c, err := Load("", []string{"MOONLIGHT_PRIVACY_PSEUDONYMISE=false", "MOONLIGHT_PRIVACY_UNMASK=two_person"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Privacy.Pseudonymise || c.Privacy.Unmask != "two_person" {
		t.Fatalf("privacy from env = %+v", c.Privacy)
	}
	if d := Default(); !d.Privacy.Pseudonymise {
		t.Fatal("pseudonymised review must be the default")
	}
}
