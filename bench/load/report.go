package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// report prints the results as Markdown: per file, each variant's median
// over the rounds, and its ratio to variant a taken round by round (so
// that drift of the machine between rounds cancels).
func report(out io.Writer, c *config, vs []*variant, results map[string][]wrkResult, flood map[string][]wrkResult, cStats map[string]float64, s *scaleResult) {
	fmt.Fprintf(out, "\n## Load benchmark (%s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(out, "Machine: %s. Client and server share it.\n\n", machine(c))
	fmt.Fprintf(out, "wrk -t%d -c%d, %d rounds of %v per variant and file, interleaved (a b c d e f, a b c d e f, ...); "+
		"figures are medians over the rounds, ratios are per-round ratios to (a), then medians.\n\n",
		c.threads, c.conns, c.rounds, c.duration)
	var a *variant
	for _, v := range vs {
		if v.key == "a" {
			a = v
		}
	}
	for _, f := range files {
		fmt.Fprintf(out, "### %s\n\n", f.label)
		fmt.Fprintln(out, "| variant | req/s | p50 µs | p99 µs | req/s vs (a) | p99 added vs (a) µs | socket errors |")
		fmt.Fprintln(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
		ra := results[a.key+f.name]
		for _, v := range vs {
			rs := results[v.key+f.name]
			var rps, p50, p99, ratio, added []float64
			var sockErrs int64
			for i, r := range rs {
				sockErrs += r.Connect + r.Read + r.Write + r.Timeout
				rps = append(rps, r.rps())
				p50 = append(p50, float64(r.P50))
				p99 = append(p99, float64(r.P99))
				if i < len(ra) {
					ratio = append(ratio, r.rps()/ra[i].rps())
					added = append(added, float64(r.P99-ra[i].P99))
				}
			}
			fmt.Fprintf(out, "| (%s) %s | %.0f | %.0f | %.0f | %.1f%% | %+.0f | %d |\n", v.key, v.title,
				median(rps), median(p50), median(p99), 100*median(ratio), median(added), sockErrs)
		}
		if rb, rf := results["b"+f.name], results["f"+f.name]; len(rb) > 0 && len(rf) > 0 {
			var ratio []float64
			for i := range min(len(rb), len(rf)) {
				ratio = append(ratio, rf[i].rps()/rb[i].rps())
			}
			fmt.Fprintf(out, "\n(f) valid throughput vs (b): %.1f%%.\n", 100*median(ratio))
		}
		if rg, rh := results["g"+f.name], results["h"+f.name]; len(rg) > 0 && len(rh) > 0 {
			var ratio, cpu, cpuG, cpuH []float64
			for i := range min(len(rg), len(rh)) {
				ratio = append(ratio, rh[i].rps()/rg[i].rps())
				cpu = append(cpu, rg[i].CPUPerReq/rh[i].CPUPerReq)
				cpuG, cpuH = append(cpuG, rg[i].CPUPerReq), append(cpuH, rh[i].CPUPerReq)
			}
			fmt.Fprintf(out, "\n(h) Caddyfile.example vs (g) plain Caddy with the same access log: throughput %.1f%% (per round: %s); "+
				"server CPU per request %.1f µs (h) and %.1f µs (g), so (h) keeps %.1f%% of (g)'s requests per CPU second (per round: %s).\n",
				100*median(ratio), percents(ratio), median(cpuH), median(cpuG), 100*median(cpu), percents(cpu))
		}
		fmt.Fprintln(out)
	}
	if len(flood) > 0 {
		what := map[string]string{
			"unknown":   "well-formed unknown tokens cycling over 200,000 (more than the negative cache holds; 401 expected)",
			"malformed": "tokens with a wrong checksum cycling over 200,000 (refused before any lookup; 401 expected)",
			"valid":     "f's own valid token (control: the same CPU sharing without refusals; 200 expected)",
		}[c.floodKind]
		if c.floodLimit {
			what += ", from another client address (X-Forwarded-For " + floodClient + "), with the default failure_limit " +
				"(after 20 failures: 429, each held failure_delay 1 s)"
		}
		fmt.Fprintf(out, "Flood during (f): wrk -t1 -c%d, %s:\n\n", c.floodConns, what)
		for _, f := range files {
			var rps []float64
			var reqs, refused int64
			for _, r := range flood[f.name] {
				rps = append(rps, r.rps())
				reqs += r.Requests
				refused += r.Status
			}
			fmt.Fprintf(out, "- while measuring %s: median %.0f flood req/s; %d of %d flood answers were not 2xx\n", f.label, median(rps), refused, reqs)
		}
		fmt.Fprintln(out)
	}
	if h, m := cStats["channelgate_cache_hits_total"], cStats["channelgate_cache_misses_total"]; h+m > 0 {
		fmt.Fprintf(out, "(c) token cache over all its runs (warm-up included): %.0f hits, %.0f misses (%.1f%% misses), %.0f evictions.\n\n",
			h, m, 100*m/(h+m), cStats["channelgate_cache_evictions_total"])
	}
	if s == nil {
		startups(out, vs)
		return
	}
	fmt.Fprintf(out, "### Scale (%s tokens)\n\n", human(s.tokens))
	fmt.Fprintln(out, "| measure | value |")
	fmt.Fprintln(out, "| --- | ---: |")
	fmt.Fprintf(out, "| create %s tokens (Store.CreateTokens, %d per batch) | %.1f s (%.1f s with setup and writing the token file) |\n",
		human(s.tokens), tokenBatch, s.createSecs, s.totalS)
	fmt.Fprintf(out, "| bbolt file size | %.1f MiB |\n", float64(s.dbSize)/(1<<20))
	fmt.Fprintf(out, "| start-up, process start to first 200 (private file, valid token) | %v |\n", s.startup.Round(time.Millisecond))
	fmt.Fprintf(out, "| RSS after start-up (VmRSS; of it RssAnon) | %s MiB; %s MiB |\n", mib(s.rssIdle), mib(s.anonIdle))
	fmt.Fprintf(out, "| RSS with the cache warm (cache_size %s, %d entries after %d requests): VmRSS (peak) | %s MiB (%s MiB) |\n",
		human(s.cacheSize), s.entries, s.warmRequests, mib(s.rssWarm), mib(s.hwm))
	fmt.Fprintf(out, "| of which RssAnon (heap, stacks: the process's own memory) | %s MiB |\n", mib(s.anonWarm))
	fmt.Fprintf(out, "| of which RssFile (pages of the bbolt file mapped in by lookups; reclaimable) | %s MiB |\n", mib(s.fileWarm))
	hitRate := 0.0
	if s.hits+s.misses > 0 {
		hitRate = 100 * float64(s.hits) / float64(s.hits+s.misses)
	}
	fmt.Fprintf(out, "| throughput cycling %s tokens on the warm cache (conda file) | %.0f req/s, p99 %d µs, %.1f%% cache hits |\n\n",
		human(s.distinct), s.hitRun.rps(), s.hitRun.P99, hitRate)

	startups(out, vs)
}

func startups(out io.Writer, vs []*variant) {
	fmt.Fprintln(out, "Start-up of each variant (process start to first 200, all on the same machine, started one after the other):")
	fmt.Fprintln(out)
	for _, v := range vs {
		fmt.Fprintf(out, "- (%s) %v\n", v.key, v.up.Round(time.Millisecond))
	}
	fmt.Fprintln(out)
}

// machine describes where the run happened.
func machine(c *config) string {
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	caddyVersion := "?"
	if out, err := exec.Command(c.caddy, "version").Output(); err == nil {
		caddyVersion = strings.Fields(string(out))[0]
	}
	load := ""
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(raw))[:3], " ")
	}
	return fmt.Sprintf("%d CPUs (%s), %s, Caddy %s, load average at the end %s", runtime.NumCPU(), cpu, goVersion(), caddyVersion, load)
}

// percents formats ratios as whole percents, in order.
func percents(rs []float64) string {
	var ps []string
	for _, r := range rs {
		ps = append(ps, fmt.Sprintf("%.0f%%", 100*r))
	}
	return strings.Join(ps, ", ")
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func goVersion() string { return runtime.Version() }
