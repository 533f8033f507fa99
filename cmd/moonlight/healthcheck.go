package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCommand probes a health URL and exits non-zero unless it
// answers 200: the container healthcheck of the distroless image, which has
// no shell or curl.
func healthcheckCommand(stdout io.Writer) *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if the health URL answers 200 (container healthchecks)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s answered %s", url, resp.Status)
			}
			_, err = fmt.Fprintln(stdout, "ok")
			return err
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:9090/readyz", "health URL (the admin listener's /readyz or /healthz)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after")
	return cmd
}
