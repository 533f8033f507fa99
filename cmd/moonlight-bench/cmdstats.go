package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// cmdStat is one (command, collection) pair of the service's MongoDB
// commands over a measured part of a run, from the service's own
// moonlight_mongo_command_duration_seconds (internal/mongostore/metrics.go).
type cmdStat struct {
	Command, Collection string
	Count               uint64
	Total               time.Duration
}

// cmdSnapshot is the histogram's counts and sums at one moment.
type cmdSnapshot map[[2]string]cmdStat

// scrapeCommands reads the service's /metrics ("nil, err" when it cannot).
func scrapeCommands(base string) (cmdSnapshot, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	snap := cmdSnapshot{}
	mf := mfs["moonlight_mongo_command_duration_seconds"]
	if mf == nil {
		return snap, nil
	}
	for _, m := range mf.GetMetric() {
		var s cmdStat
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "command":
				s.Command = l.GetValue()
			case "collection":
				s.Collection = l.GetValue()
			}
		}
		h := m.GetHistogram()
		s.Count = h.GetSampleCount()
		s.Total = time.Duration(h.GetSampleSum() * float64(time.Second))
		snap[[2]string{s.Command, s.Collection}] = s
	}
	return snap, nil
}

// since is what happened between before and s, largest total time first.
func (s cmdSnapshot) since(before cmdSnapshot) []cmdStat {
	var out []cmdStat
	for k, v := range s {
		b := before[k]
		v.Count -= b.Count
		v.Total -= b.Total
		if v.Count > 0 {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Count > out[j].Count
	})
	return out
}

// commandWatch brackets a measured part: start before, stop after.
type commandWatch struct {
	base   string
	before cmdSnapshot
	err    error
}

func watchCommands(base string) *commandWatch {
	w := &commandWatch{base: base}
	w.before, w.err = scrapeCommands(base)
	return w
}

// stop returns the commands since watchCommands, or the scrape's error.
func (w *commandWatch) stop() ([]cmdStat, error) {
	if w.err != nil {
		return nil, w.err
	}
	after, err := scrapeCommands(w.base)
	if err != nil {
		return nil, err
	}
	return after.since(w.before), nil
}

// commandsTable is the top n pairs by total time as Markdown, with the
// share of the total each takes and the mean per command.
func commandsTable(stats []cmdStat, n int) string {
	if len(stats) == 0 {
		return ""
	}
	var total time.Duration
	var count uint64
	for _, s := range stats {
		total += s.Total
		count += s.Count
	}
	var b strings.Builder
	b.WriteString("| command | collection | commands | total time | share | mean |\n|---|---|---:|---:|---:|---:|\n")
	for i, s := range stats {
		if i == n {
			break
		}
		coll := s.Collection
		if coll == "" {
			coll = "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %.1f%% | %s |\n", s.Command, coll, s.Count,
			s.Total.Round(time.Millisecond), 100*float64(s.Total)/float64(max(total, 1)), ms(s.Total/time.Duration(max(s.Count, 1))))
	}
	fmt.Fprintf(&b, "| all | | %d | %s | 100%% | %s |\n", count, total.Round(time.Millisecond), ms(total/time.Duration(max(count, 1))))
	return b.String()
}

// commandsSummary is the top n pairs on one line for the terminal.
func commandsSummary(stats []cmdStat, n int) string {
	var parts []string
	for i, s := range stats {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s/%s %d×%s", s.Command, s.Collection, s.Count, s.Total.Round(time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// writeCommands keeps every pair of a measured part as a TSV file next to
// the profiles (nothing when dir is empty).
func writeCommands(dir, name string, stats []cmdStat) {
	if dir == "" || len(stats) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("command\tcollection\tcount\ttotal_seconds\n")
	for _, s := range stats {
		fmt.Fprintf(&b, "%s\t%s\t%d\t%.6f\n", s.Command, s.Collection, s.Count, s.Total.Seconds())
	}
	_ = os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644)
}
