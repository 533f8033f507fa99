package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/ingest"
	"github.com/moonlight-oss/moonlight/internal/produce"
)

func produceCommand(load func() (config.Config, error), stdout io.Writer) *cobra.Command {
	var (
		brokers string
		file    string
	)
	cmd := &cobra.Command{
		Use:   "produce --brokers HOST:PORT --file FILE.jsonl",
		Short: "Publish CloudEvents (one per line) to their topics, keyed per the event contract",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			bs := cfg.Kafka.Brokers
			if brokers != "" {
				bs = strings.Split(brokers, ",")
			}
			t := cfg.Kafka.Topics
			res, err := produce.Run(cmd.Context(), produce.Config{
				Brokers: bs, File: file, Out: cmd.ErrOrStderr(),
				Topics: ingest.Topics{HR: t.HR, Expense: t.Expense, Intel: t.Intel},
			})
			fmt.Fprintf(stdout, "produced %d events, rejected %d lines\n", res.Produced, len(res.Rejected))
			for _, le := range res.Rejected {
				fmt.Fprintf(stdout, "  %v\n", le)
			}
			if err != nil {
				return err
			}
			if len(res.Rejected) > 0 {
				return fmt.Errorf("%d lines rejected", len(res.Rejected))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&brokers, "brokers", "", "Kafka brokers, comma-separated (default: kafka.brokers of the config)")
	cmd.Flags().StringVar(&file, "file", "", "JSON Lines file of CloudEvents, or - for standard input")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
