package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealthcheckCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		give    string
		wantErr bool
	}{
		{"ready", srv.URL + "/readyz", false},
		{"not ready", srv.URL + "/other", true},
		{"nobody listening", "http://127.0.0.1:1/readyz", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(t.Context(), []string{"healthcheck", "--url", tt.give}, nil, &out, &errs)
			if (err != nil) != tt.wantErr {
				t.Fatalf("healthcheck %s: err %v, want error %v", tt.give, err, tt.wantErr)
			}
		})
	}
}
