package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/moonlight-oss/moonlight/internal/config"
	"github.com/moonlight-oss/moonlight/internal/ingest"
)

// dlqCommand lists, shows and replays dead letters. It reads the dead-letter
// topics directly (no consumer group), so it commits nothing.
func dlqCommand(load func() (config.Config, error), stdout io.Writer) *cobra.Command {
	var brokers string
	open := func() (*ingest.DLQ, error) {
		cfg, err := load()
		if err != nil {
			return nil, err
		}
		bs := cfg.Kafka.Brokers
		if brokers != "" {
			bs = strings.Split(brokers, ",")
		}
		return ingest.NewDLQ(bs, cfg.Kafka.Topics.All(), cfg.Kafka.DLQSuffix), nil
	}
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List, show and replay dead-lettered messages",
	}
	cmd.PersistentFlags().StringVar(&brokers, "brokers", "", "Kafka brokers, comma-separated (default: kafka.brokers of the config)")

	var reason string
	list := &cobra.Command{
		Use:   "list [--reason CODE]",
		Short: "List dead letters (id, time, reason, source) and the count of each reason",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := open()
			if err != nil {
				return err
			}
			defer d.Close()
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTIME\tREASON\tSOURCE")
			counts := map[string]int{}
			err = d.Scan(cmd.Context(), func(l ingest.DeadLetter) error {
				counts[l.Code()]++
				if reason != "" && l.Code() != reason {
					return nil
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%d/%d\n", l.ID(), l.Time.UTC().Format("2006-01-02T15:04:05Z"),
					short(l.Reason, 100), l.SourceTopic, l.SourcePartition, l.SourceOffset)
				return nil
			})
			if err != nil {
				return err
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(stdout)
			printCounts(stdout, counts)
			return nil
		},
	}
	list.Flags().StringVar(&reason, "reason", "", "only dead letters with this reason code (e.g. invalid_data)")

	show := &cobra.Command{
		Use:   "show ID...",
		Short: "Show dead letters by id (<dlq topic>/<partition>/<offset>): reason, source, key, headers and value",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := open()
			if err != nil {
				return err
			}
			defer d.Close()
			for _, id := range args {
				l, err := d.Get(cmd.Context(), id)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "id:      %s\ntime:    %s\nreason:  %s\nsource:  %s/%d/%d\nkey:     %s\n", l.ID(),
					l.Time.UTC().Format("2006-01-02T15:04:05Z"), l.Reason, l.SourceTopic, l.SourcePartition, l.SourceOffset, printable(l.Key))
				for _, h := range l.Headers {
					fmt.Fprintf(stdout, "header:  %s: %s\n", h.Key, printable(h.Value))
				}
				fmt.Fprintf(stdout, "value:   %s\n\n", printable(l.Value))
			}
			return nil
		},
	}

	var all bool
	replay := &cobra.Command{
		Use:   "replay (ID... | --reason CODE | --all)",
		Short: "Send dead letters back to their source topics with their original key and headers",
		Long: "Send dead letters back to their source topics with their original key, value and headers, " +
			"after the cause is fixed (configuration, a producer's bug). Consumers dedupe by (source, id): " +
			"an event that got in meanwhile has no second effect, and one that is still bad is dead-lettered again. " +
			"Replay leaves the dead letters where they are.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) > 0) == (reason != "" || all) || (reason != "" && all) {
				return fmt.Errorf("name dead letters by id, or give --reason or --all (one of them)")
			}
			d, err := open()
			if err != nil {
				return err
			}
			defer d.Close()
			var pick []ingest.DeadLetter
			if len(args) > 0 {
				for _, id := range args {
					l, err := d.Get(cmd.Context(), id)
					if err != nil {
						return err
					}
					pick = append(pick, l)
				}
			} else if err := d.Scan(cmd.Context(), func(l ingest.DeadLetter) error {
				if all || l.Code() == reason {
					pick = append(pick, l)
				}
				return nil
			}); err != nil {
				return err
			}
			if err := d.Replay(cmd.Context(), pick); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "replayed %d dead letters\n", len(pick))
			return nil
		},
	}
	replay.Flags().StringVar(&reason, "reason", "", "replay every dead letter with this reason code")
	replay.Flags().BoolVar(&all, "all", false, "replay every dead letter")
	cmd.AddCommand(list, show, replay)
	return cmd
}

func printCounts(w io.Writer, counts map[string]int) {
	codes := make([]string, 0, len(counts))
	total := 0
	for c, n := range counts {
		codes = append(codes, c)
		total += n
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(w, "%-20s %d\n", c, counts[c])
	}
	fmt.Fprintf(w, "%-20s %d\n", "total", total)
}

// short cuts s to n characters.
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// printable shows bytes as text when they are UTF-8 without control
// characters (a message must not drive the operator's terminal), quoted when
// they have some, else as hex.
func printable(b []byte) string {
	if utf8.Valid(b) {
		if strings.IndexFunc(string(b), unicode.IsControl) >= 0 {
			return strconv.Quote(string(b))
		}
		return string(b)
	}
	return fmt.Sprintf("(%d bytes, not UTF-8) %x", len(b), b[:min(len(b), 64)])
}
