package config

import (
	"strings"
	"testing"
)

// TestRetentionSettings: periods come from the environment like every
// setting, and an audit period shorter than the data it records is refused.
func TestRetentionSettings(t *testing.T) {
	c, err := Load("", []string{"MOONLIGHT_RETENTION_RAW_EVENTS=36mo", "MOONLIGHT_RETENTION_AUDIT=120mo", "MOONLIGHT_RETENTION_ENABLED=false"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.RawEvents != "36mo" || c.Retention.Audit != "120mo" || c.Retention.Enabled || c.Retention.Signals != "12mo" {
		t.Fatalf("retention = %+v", c.Retention)
	}
	_, err = Load("", []string{"MOONLIGHT_RETENTION_AUDIT=12mo"})
	if err == nil || !strings.Contains(err.Error(), "retention.audit (12mo) must be at least") {
		t.Fatalf("short audit period: %v", err)
	}
}
