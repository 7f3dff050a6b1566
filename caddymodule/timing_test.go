package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestHiddenTimingMatchesMissing proves finding 13's fix: a hidden
// private package and a package the channel does not have take the same
// time to answer. Anonymous GETs of each alternate (in alternating
// order) over one kept-alive connection; each round takes the median of
// 300 paired differences (hidden minus missing). Before the fix the
// hidden one skipped the storage lookup and was faster by more than a
// microsecond in 10 rounds out of 10. The test fails when every round
// shows the same difference beyond ±1 µs (for equal paths the chance is
// 2 in 1024, less with the dead zone).
func TestHiddenTimingMatchesMissing(t *testing.T) {
	g := startGateway(t, "")
	g.seed()
	const (
		hidden  = "/acme/noarch/secret-1.0-0.conda"
		missing = "/acme/noarch/nothere-1.0-0.conda"
		rounds  = 10
		pairs   = 300
		deadUS  = 1.0
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func(path string) float64 {
		req, err := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", gatewayPort, path), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = fmt.Sprintf("localhost:%d", gatewayPort) // the site's name
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %d, want 404", path, resp.StatusCode)
		}
		return float64(time.Since(start).Nanoseconds()) / 1e3
	}
	for range 200 { // warm-up: connection, caches, code paths
		get(hidden)
		get(missing)
	}
	var faster, slower int
	medians := make([]string, 0, rounds)
	for range rounds {
		diffs := make([]float64, pairs)
		for i := range diffs {
			if i%2 == 0 {
				h := get(hidden)
				diffs[i] = h - get(missing)
			} else {
				m := get(missing)
				diffs[i] = get(hidden) - m
			}
		}
		slices.Sort(diffs)
		med := (diffs[pairs/2-1] + diffs[pairs/2]) / 2
		medians = append(medians, fmt.Sprintf("%+.1f", med))
		switch {
		case med < -deadUS:
			faster++
		case med > deadUS:
			slower++
		}
	}
	t.Logf("median hidden-minus-missing per round (µs): %v", medians)
	if faster == rounds || slower == rounds {
		t.Fatalf("a hidden package answers consistently %s than a missing one: medians %v µs",
			map[bool]string{true: "faster", false: "slower"}[faster == rounds], medians)
	}
}
