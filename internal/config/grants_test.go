package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEventGrantsFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	yaml := "events:\n  grants:\n    svc-loader: {types: [\"*\"], sources: [\"*\"]}\n    svc-HRIS: {types: [\"hr.*\"], sources: [hris/workday-cn]}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Events.Grants.Check("svc-loader", "hr.employee.updated", "x"); err != nil {
		t.Errorf("loader: %v", err)
	}
	if err := cfg.Events.Grants.Check("svc-HRIS", "hr.employee.updated", "hris/workday-cn"); err != nil {
		t.Errorf("account names keep their case: %v (grants %+v)", err, cfg.Events.Grants)
	}
	if d, err := Load("", nil); err != nil || len(d.Events.Grants) != 0 {
		t.Errorf("default grants = %+v, %v; want none", d.Events.Grants, err)
	}
}
