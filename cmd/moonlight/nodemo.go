//go:build nodemo

package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/config"
)

// This is the production build (go build -tags nodemo): the embedded broker
// and database (kfake, FerretDB with SQLite) are not linked in, so the
// commands that need them answer with an error saying so.

var errNoDemo = errors.New("this build of moonlight has no embedded servers (built with -tags nodemo): " +
	"use `moonlight serve` with real Kafka and MongoDB, or a build without the tag for `moonlight demo`")

func demoCommand(_ func() (config.Config, error), _, _ io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Not in this build: the embedded demo (build without -tags nodemo)",
		RunE:  func(*cobra.Command, []string) error { return errNoDemo },
	}
}

func embeddedMongoCommand(_, _ io.Writer) *cobra.Command {
	return &cobra.Command{Use: "embedded-mongo", Hidden: true, RunE: func(*cobra.Command, []string) error { return errNoDemo }}
}

func embeddedKafkaCommand(_ io.Writer) *cobra.Command {
	return &cobra.Command{Use: "embedded-kafka", Hidden: true, RunE: func(*cobra.Command, []string) error { return errNoDemo }}
}
