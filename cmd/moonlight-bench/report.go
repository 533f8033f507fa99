package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

type report struct {
	label             string
	servers           *servers
	opts              options_
	started, finished time.Time
	ingest            *ingestResult
	latency           []latencyResult
	api               *apiResult
	ingestErr         error
	latencyErr        error
	apiErr            error
}

// machine describes where the run happened.
func machine() string {
	model, mem := "unknown", "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if v, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				break
			}
		}
		f.Close()
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = fmt.Sprintf("; load average at the end %s %s %s", f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("%d CPUs (nproc), %s, %s, %s %s/%s%s", runtime.NumCPU(), model, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH, load)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// summary is what the terminal shows: one key=value line per figure.
func (r report) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n== moonlight-bench: %s\n", r.label)
	if i := r.ingest; i != nil && r.ingestErr == nil {
		fmt.Fprintf(&b, "ingest_events=%d consume_baseline=%.0f/s store_baseline=%.0f/s moonlight=%.0f/s\n", i.Events, i.ConsumeRate, i.StoreRate, i.MoonlightRate)
		fmt.Fprintf(&b, "ingest_vs_consume=%.3f\ningest_vs_store=%.3f\ningest_vs_slower_baseline=%.3f\n", i.vsConsume(), i.vsStore(), i.vsSlower())
		fmt.Fprintf(&b, "ingest_service_cpu=%s ingest_bench_process_cpu=%s ingest_rss=%s\n", i.ServiceCPU.Round(time.Millisecond), i.OtherCPU.Round(time.Millisecond), mib(i.RSS))
		fmt.Fprintf(&b, "ingest_top_commands=%q\n", commandsSummary(i.Commands, 8))
	} else if r.ingestErr != nil {
		fmt.Fprintf(&b, "ingest_error=%q\n", r.ingestErr)
	}
	for _, l := range r.latency {
		fmt.Fprintf(&b, "detect_cases=%d detect_rate=%.0f/s detect_p50=%s detect_p99=%s detect_seen=%d/%d detect_rss=%s\n", l.Cases, l.AchievedRate, ms(l.P50), ms(l.P99), l.Seen, l.Probes, mib(l.RSS))
		fmt.Fprintf(&b, "detect_top_commands=%q\n", commandsSummary(l.Commands, 8))
	}
	if r.latencyErr != nil {
		fmt.Fprintf(&b, "detect_error=%q\n", r.latencyErr)
	}
	if a := r.api; a != nil {
		for _, row := range a.Refs {
			fmt.Fprintf(&b, "api %q rps=%.0f p50=%s p99=%s errors=%d\n", row.Name, row.RPS, ms(row.P50), ms(row.P99), row.Errors)
		}
		for _, set := range a.Sets {
			for _, row := range set.Rows {
				fmt.Fprintf(&b, "api %q rps=%.0f p50=%s p99=%s errors=%d\n", row.Name, row.RPS, ms(row.P50), ms(row.P99), row.Errors)
			}
			fmt.Fprintf(&b, "api_cases=%d api_open=%d api_rss=%s\n", set.Cases, set.Open, mib(set.RSS))
		}
		fmt.Fprintf(&b, "api_events=%d\n", a.EventsStored)
	}
	if r.apiErr != nil {
		fmt.Fprintf(&b, "api_error=%q\n", r.apiErr)
	}
	return b.String()
}

func (r report) markdown() string {
	var b strings.Builder
	o := r.opts
	fmt.Fprintf(&b, "\n## %s\n\n", r.label)
	fmt.Fprintf(&b, "- Run: %s, %s (`go run ./cmd/moonlight-bench` via `make bench`).\n", r.started.UTC().Format("2006-01-02 15:04 UTC"), r.finished.Sub(r.started).Round(time.Second))
	fmt.Fprintf(&b, "- Machine: %s. The machine is shared: absolute figures are noisy, ratios within one run are what to compare.\n", machine())
	fmt.Fprintf(&b, "- Broker: %s. Database: %s.\n", r.servers.kafkaName, r.servers.mongoName)
	fmt.Fprintf(&b, "- Moonlight runs as its own process (this binary in `service` mode, configured like `moonlight serve`: batch 500, 3 partitions per topic); ")
	if r.servers.inProcess {
		fmt.Fprintf(&b, "the embedded servers and the load generators run in the bench process.\n")
	} else {
		fmt.Fprintf(&b, "the servers are separate processes.\n")
	}

	b.WriteString("\n### 1. Ingest throughput\n\n")
	if i := r.ingest; i != nil && r.ingestErr == nil {
		fmt.Fprintf(&b, "%d contract events pre-loaded in the broker: %s.\n\n", i.Events, i.Mix)
		b.WriteString("| what | events/s | vs Moonlight |\n|---|---:|---:|\n")
		fmt.Fprintf(&b, "| (a) bare kafka-go group reader: fetch + commit, batches of 500 | %.0f | |\n", i.ConsumeRate)
		fmt.Fprintf(&b, "| (b) bare unordered `InsertMany` of the same documents, batches of 500, same indexes | %.0f | |\n", i.StoreRate)
		fmt.Fprintf(&b, "| **Moonlight**: consume, validate, store, project HR, detect, open cases, commit | **%.0f** (%.1f s) | `ingest_vs_consume=%.3f` `ingest_vs_store=%.3f` |\n\n",
			i.MoonlightRate, i.MoonlightSeconds, i.vsConsume(), i.vsStore())
		fmt.Fprintf(&b, "The ratio that counts is to the slower baseline: **`ingest_vs_slower_baseline=%.3f`** (goal ≥ 0.7).\n\n", i.vsSlower())
		fmt.Fprintf(&b, "During Moonlight's run the service process used %s of CPU", i.ServiceCPU.Round(10*time.Millisecond))
		if r.servers.inProcess {
			fmt.Fprintf(&b, " and the bench process (embedded broker and database, lag polling) %s", i.OtherCPU.Round(10*time.Millisecond))
		}
		fmt.Fprintf(&b, ", over %.1f s of wall time on %d CPUs. Stored %d events; detection opened %d cases. Peak RSS of the service: **%s**.\n",
			i.MoonlightSeconds, runtime.NumCPU(), i.Stored, i.Cases, mib(i.RSS))
		b.WriteString(commandsSection("the ingest run", i.Commands, i.CommandsErr))
		for _, p := range []struct{ title, path, flags string }{
			{"Service CPU profile, top functions (flat)", i.ServiceCPUProfile, ""},
			{"Service CPU profile, top functions (cumulative)", i.ServiceCPUProfile, "-cum"},
			{"Service allocations (alloc_space)", i.ServiceAllocProfile, "-sample_index=alloc_space"},
			{"Bench process CPU profile: the embedded broker and database", i.ServersCPUProfile, ""},
		} {
			if top := pprofTop(p.path, p.flags); top != "" {
				fmt.Fprintf(&b, "\n%s:\n\n```\n%s```\n", p.title, top)
			}
		}
	} else {
		fmt.Fprintf(&b, "Failed: %v\n", r.ingestErr)
	}

	b.WriteString("\n### 2. Detection latency\n\n")
	fmt.Fprintf(&b, "Realistic traffic produced at %d events/s for %s; every %s one card payment at an expert network by a new person. "+
		"Latency is from just before the probe is written to Kafka until the case's `opened_at` (detection's clock when it opens the case, just before writing it), read from the database by key (the person's `case_refs`, then the case, by `_id`), which each probe polls every 250 ms, all probes together at most %d times a second (the \"seen\" columns: until that poll saw it). "+
		"One row per number of cases stored before the traffic starts (nine in ten of them open). Goal: p99 < 1 s.\n\n", o.rate, o.latencyDuration, o.probeEvery, o.pollRate)
	if len(r.latency) > 0 {
		b.WriteString("| cases stored | achieved events/s | probes | seen | p50 | p99 | max | seen p50 | seen p99 | lag when producing stopped | peak RSS |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, l := range r.latency {
			fmt.Fprintf(&b, "| %d | %.0f | %d | %d | %s | %s | %s | %s | %s | %d | %s |\n", l.Cases, l.AchievedRate, l.Probes, l.Seen, ms(l.P50), ms(l.P99), ms(l.Max), ms(l.SeenP50), ms(l.SeenP99), l.Lag, mib(l.RSS))
		}
		for _, l := range r.latency {
			b.WriteString(commandsSection(fmt.Sprintf("the row with %d cases stored", l.Cases), l.Commands, l.CommandsErr))
			for _, p := range []struct{ title, path string }{
				{"service CPU profile, top functions (flat)", l.ServiceCPUProfile},
				{"bench process (embedded broker and database) CPU profile during the traffic", l.ServersCPUProfile},
			} {
				if top := pprofTop(p.path, ""); top != "" {
					fmt.Fprintf(&b, "\nWith %d cases stored, %s:\n\n```\n%s```\n", l.Cases, p.title, top)
				}
			}
		}
	}
	if r.latencyErr != nil {
		fmt.Fprintf(&b, "\nFailed: %v\n", r.latencyErr)
	}

	b.WriteString("\n### 3. Case API\n\n")
	if a := r.api; a != nil {
		fmt.Fprintf(&b, "One database and service per case set: %d cases each (written through the case store), of which the given number are open (one in ten of those in review), the others closed. ", o.apiCases)
		fmt.Fprintf(&b, "Under the first set also **%d stored events**", a.EventsStored)
		if a.EventsStored < a.EventsWanted {
			fmt.Fprintf(&b, " — fewer than the %d asked for: the seeding budget of %s ran out (bulk `InsertMany` at %.0f events/s)", a.EventsWanted, o.seedBudget, a.SeedRate)
		} else {
			fmt.Fprintf(&b, " (bulk `InsertMany` at %.0f events/s)", a.SeedRate)
		}
		fmt.Fprintf(&b, "; the case API does not read them. %d concurrent clients with keep-alive, %s per row (longer where needed for at least 200 requests, at most 60 s); a compliance token (JWT verified per request). "+
			"Every case listed or read is audited (one audit entry per case). Goals: case p99 < 50 ms; queue p99 < 50 ms with 1,000 open among 10,000 (the all-open row is reported as it is).\n\n", a.Concurrency, o.apiDuration)
		b.WriteString("| endpoint | body bytes | requests | req/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|---:|\n")
		rows := append([]loadResult(nil), a.Refs...)
		for _, set := range a.Sets {
			rows = append(rows, set.Rows...)
		}
		for _, row := range rows {
			name := row.Name
			if !row.Reference {
				name = "**" + name + "**"
			}
			errs := fmt.Sprint(row.Errors)
			if row.FirstErr != "" {
				errs += " (" + row.FirstErr + ")"
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %s | %s | %s |\n", name, row.Bytes, row.Requests, row.RPS, ms(row.P50), ms(row.P99), errs)
		}
		b.WriteString("\n| case set | cases written/s | audit entries at the end | peak RSS of the service |\n|---|---:|---:|---:|\n")
		for _, set := range a.Sets {
			fmt.Fprintf(&b, "| %d open of %d | %.0f | %d | %s |\n", set.Open, set.Cases, set.CaseSeedRate, set.AuditEntries, mib(set.RSS))
		}
		for _, set := range a.Sets {
			for _, row := range set.Rows {
				b.WriteString(commandsSection("`"+row.Name+"`", row.Commands, row.CommandsErr))
			}
		}
	}
	if r.apiErr != nil {
		fmt.Fprintf(&b, "\nFailed: %v\n", r.apiErr)
	}
	return b.String()
}

// pprofTop is `go tool pprof -top` of a profile, first lines only ("" when
// the profile or the go tool is missing).
func pprofTop(path, flags string) string {
	if path == "" {
		return ""
	}
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	args := []string{"tool", "pprof", "-top", "-nodecount=15"}
	if flags != "" {
		args = append(args, flags)
	}
	out, err := exec.Command("go", append(args, path)...).Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(string(out), "\n")
	var keep []string
	for _, l := range lines {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") || l == "" {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n") + "\n"
}

// commandsSection is the top (command, collection) pairs of a measured part
// by total time, read from the service's own
// moonlight_mongo_command_duration_seconds ("" when there were none).
func commandsSection(what string, stats []cmdStat, err error) string {
	if err != nil {
		return fmt.Sprintf("\nThe service's MongoDB commands during %s could not be read: %v\n", what, err)
	}
	t := commandsTable(stats, 12)
	if t == "" {
		return ""
	}
	return fmt.Sprintf("\nThe service's MongoDB commands during %s, by total time (from its `moonlight_mongo_command_duration_seconds`; concurrent commands overlap, so the total can exceed the wall time):\n\n%s", what, t)
}
