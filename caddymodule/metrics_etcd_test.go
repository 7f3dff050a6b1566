package caddymodule

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/channelgate/channelgate/internal/etcdtest"
	"github.com/channelgate/channelgate/tokenstore/etcdstore"
)

// TestEtcdMetrics: with an etcd store open, the collector reports its
// state (current, no reload); with none open, nothing.
func TestEtcdMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(etcdStats); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Fatalf("no etcd store: %d metrics, %v", n, err)
	}
	c := etcdtest.Start(t, 1)
	be, err := etcdstore.Open(etcdstore.Config{Endpoints: c.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	etcdBackends.Store("metrics-test", be)
	defer etcdBackends.Delete("metrics-test")
	want := `
# HELP channelgate_etcd_stale 1 while an etcd store's watch is past its staleness bound and decisions are refused with 503.
# TYPE channelgate_etcd_stale gauge
channelgate_etcd_stale 0
# HELP channelgate_etcd_reloads_total Lost or compacted etcd watches after which the caches were dropped.
# TYPE channelgate_etcd_reloads_total counter
channelgate_etcd_reloads_total 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "channelgate_etcd_stale", "channelgate_etcd_reloads_total"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "channelgate_etcd_watch_lag_seconds", "channelgate_etcd_errors_total",
		"channelgate_etcd_conflicts_total"); err != nil || n != 3 {
		t.Fatalf("lag, errors, conflicts: %d metrics, %v", n, err)
	}
}
