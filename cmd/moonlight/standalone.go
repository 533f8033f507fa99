//go:build !nodemo

package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/embedded"
)

// The standalone commands run the embedded database or broker as a process of
// their own, so the reliability tests can stop, kill and restart a dependency
// independently of the service. They are hidden: tests and scripts use them,
// `moonlight demo` is what people run.

func embeddedMongoCommand(stdout, stderr io.Writer) *cobra.Command {
	var addr, dir string
	cmd := &cobra.Command{
		Use:    "embedded-mongo --addr HOST:PORT --data DIR",
		Short:  "Run the embedded MongoDB-wire database (FerretDB on SQLite) until SIGTERM",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
			db, err := embedded.StartDatabase(addr, dir, log)
			if err != nil {
				return err
			}
			// One line on stdout, so a parent knows the URI (the port may have been 0).
			fmt.Fprintf(stdout, "MONGO_URI=%s\n", db.URI())
			<-cmd.Context().Done()
			return db.Close()
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:27017", "listen address (port 0 picks a free one)")
	cmd.Flags().StringVar(&dir, "data", "", "directory of the SQLite files (kept across restarts)")
	_ = cmd.MarkFlagRequired("data")
	return cmd
}

func embeddedKafkaCommand(stdout io.Writer) *cobra.Command {
	var (
		addr, dir  string
		partitions int32
	)
	cmd := &cobra.Command{
		Use:    "embedded-kafka --addr HOST:PORT [--data DIR]",
		Short:  "Run the embedded Kafka-protocol broker (kfake) until SIGTERM",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return fmt.Errorf("--addr %q: %w", addr, err)
			}
			b, err := embedded.StartBroker(embedded.BrokerConfig{Addr: addr, DataDir: dir, Partitions: partitions})
			if err != nil {
				return err
			}
			defer b.Close()
			fmt.Fprintf(stdout, "KAFKA_BROKERS=%s\n", b.Addrs()[0])
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9092", "listen address (port 0 picks a free one)")
	cmd.Flags().StringVar(&dir, "data", "", "directory of the broker's files (empty: in memory)")
	cmd.Flags().Int32Var(&partitions, "partitions", 3, "partitions of auto-created topics")
	return cmd
}
