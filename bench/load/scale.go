package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type scaleResult struct {
	startup            time.Duration
	rssIdle, rssWarm   int64 // bytes, VmRSS
	anonIdle, anonWarm int64 // RssAnon: the process's own memory
	fileWarm           int64 // RssFile: mapped file pages (bbolt's mmap)
	hwm                int64
	entries            int64
	warmRequests       int64
	hitRun             wrkResult
	hits, misses       int64
	dbSize             int64
	tokens, cacheSize  int
	distinct           int
	createSecs, totalS float64
}

// measureScale starts a Caddy on the big store with a cache as large as
// -scale-cache, times its start-up to the first 200, warms the cache with
// as many distinct tokens and reads its resident memory.
func measureScale(ctx context.Context, ps *procs, c *config, bin, tmp, storage string, big bigStore, w wrkRunner) (scaleResult, error) {
	r := scaleResult{tokens: big.meta.Tokens, cacheSize: c.scaleCache, distinct: c.scaleCache,
		createSecs: big.meta.CreateSecs, totalS: big.meta.TotalSecs}
	if fi, err := os.Stat(big.db); err == nil {
		r.dbSize = fi.Size()
	}
	port, metricsPort := c.port+7, c.port+8
	site := channelgateBlock(big.db, c.scaleCache, false) + fileServer(storage)
	cf := filepath.Join(tmp, "Caddyfile.scale")
	if err := os.WriteFile(cf, []byte(caddyfile(tmp, "scale", port, "", site, metricsPort)), 0o644); err != nil {
		return r, err
	}
	const file = "/acme/noarch/secret-1.0-0.conda"
	proc, up, err := startCaddy(ctx, ps, bin, cf, tmp, &variant{key: "scale", port: port}, file, "", firstToken([]string{"cycle"}, big.tokens))
	if err != nil {
		return r, err
	}
	defer proc.stop()
	r.startup = up
	log.Printf("scale: Caddy on %s tokens up in %v", human(big.meta.Tokens), up.Round(time.Millisecond))
	r.rssIdle, _ = procStatus(proc.pid(), "VmRSS")
	r.anonIdle, _ = procStatus(proc.pid(), "RssAnon")

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	args := func() []string {
		return []string{"cycle", file, big.tokens, strconv.Itoa(c.scaleCache), "0", strconv.FormatInt(r.warmRequests/int64(w.threads), 10)}
	}
	for i := 0; i < 10; i++ {
		res, err := w.run(ctx, base, max(c.duration, 3*time.Second), args())
		if err != nil {
			return r, err
		}
		if err := res.failed(); err != nil {
			return r, err
		}
		r.warmRequests += res.Requests
		m, err := metrics(ctx, metricsPort)
		if err != nil {
			return r, err
		}
		r.entries = int64(m["channelgate_cache_entries"])
		log.Printf("scale: warming, %d requests, %d cache entries", r.warmRequests, r.entries)
		if r.entries >= int64(c.scaleCache) {
			break
		}
	}
	m, err := metrics(ctx, metricsPort)
	if err != nil {
		return r, err
	}
	hits0, misses0 := m["channelgate_cache_hits_total"], m["channelgate_cache_misses_total"]
	// One more run on the warm cache: every lookup should hit.
	if r.hitRun, err = w.run(ctx, base, c.duration, args()); err != nil {
		return r, err
	}
	if err := r.hitRun.failed(); err != nil {
		return r, err
	}
	if m, err = metrics(ctx, metricsPort); err != nil {
		return r, err
	}
	r.hits, r.misses = int64(m["channelgate_cache_hits_total"]-hits0), int64(m["channelgate_cache_misses_total"]-misses0)
	r.rssWarm, _ = procStatus(proc.pid(), "VmRSS")
	r.anonWarm, _ = procStatus(proc.pid(), "RssAnon")
	r.fileWarm, _ = procStatus(proc.pid(), "RssFile")
	r.hwm, _ = procStatus(proc.pid(), "VmHWM")
	return r, nil
}

// procStatus reads a "kB" field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// metrics reads the unlabelled channelgate_* series of a metrics site.
func metrics(ctx context.Context, port int) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if !strings.HasPrefix(line, "channelgate_") || strings.Contains(line, "{") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = f
		}
	}
	return out, nil
}
