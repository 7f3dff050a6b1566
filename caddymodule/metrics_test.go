package caddymodule

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

// scrape reads the gateway's /metrics and returns every channelgate_
// sample by its full series name (with labels).
func scrape(t *testing.T, g *gateway) map[string]float64 {
	t.Helper()
	status, body, _ := g.do("GET", "/metrics", nil)
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "channelgate_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetrics proves the collectors are served on Caddy's metrics
// endpoint and move with real traffic: decisions by outcome and reason,
// cache hits and misses, store lookups and the live token count.
func TestMetrics(t *testing.T) {
	g := startSite(t, site{routes: "handle /metrics {\n\t\tmetrics\n\t}"})
	tok := g.seed()
	before := scrape(t, g)
	private := "/acme/noarch/secret-1.0-0.conda"
	requests := []struct {
		path   string
		status int
	}{
		{"/acme/noarch/open-1.0-0.conda", 200},
		{private, 404}, // hidden as missing; counted as no_token
		{"/t/" + tok["alice/all"] + private, 200},
		{"/t/" + tok["alice/all"] + private, 200},
		{"/t/" + tok["alice/pypi-only"] + private, 404},
		{"/t/cgt-garbage" + private, 401},
	}
	for _, r := range requests {
		if status, _, _ := g.do("GET", r.path, nil); status != r.status {
			t.Fatalf("%s: %d, want %d", r.path, status, r.status)
		}
	}
	after := scrape(t, g)
	delta := func(series string) float64 { return after[series] - before[series] }
	for series, want := range map[string]float64{
		`channelgate_decisions_total{outcome="allow",reason="public"}`:                    1,
		`channelgate_decisions_total{outcome="allow",reason="granted"}`:                   2,
		`channelgate_decisions_total{outcome="unauthenticated",reason="no_token"}`:        1,
		`channelgate_decisions_total{outcome="forbidden",reason="missing_scope"}`:         1,
		`channelgate_decisions_total{outcome="unauthenticated",reason="malformed_token"}`: 1,
	} {
		if got := delta(series); got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	// Two tokens were looked up for the first time (misses, each one
	// store read), then alice's again from the cache; the garbage token
	// never reached the cache.
	if got := delta("channelgate_cache_misses_total"); got != 2 {
		t.Errorf("cache misses moved by %v, want 2", got)
	}
	if got := delta("channelgate_cache_hits_total"); got != 1 {
		t.Errorf("cache hits moved by %v, want 1", got)
	}
	if got := delta("channelgate_store_lookup_seconds_count"); got != 2 {
		t.Errorf("store lookups moved by %v, want 2", got)
	}
	if got := after["channelgate_tokens"]; got < float64(len(tok)) {
		t.Errorf("channelgate_tokens = %v, want at least %d", got, len(tok))
	}
}
