package caddymodule

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/channelgate/channelgate/tokenstore/etcdstore"
)

// etcdStats reports the etcd backends' state: how long ago each watch was
// last known current (lag) and whether decisions are refused for it
// (stale), reloads after a lost or compacted watch, failed etcd calls and
// write conflicts. Nothing is reported while no etcd store is open.
var etcdStats = etcdCollector{
	lag: prometheus.NewDesc("channelgate_etcd_watch_lag_seconds",
		"Time since the etcd watch was last known current (largest over open etcd stores).", nil, nil),
	stale: prometheus.NewDesc("channelgate_etcd_stale",
		"1 while an etcd store's watch is past its staleness bound and decisions are refused with 503.", nil, nil),
	reloads: prometheus.NewDesc("channelgate_etcd_reloads_total",
		"Lost or compacted etcd watches after which the caches were dropped.", nil, nil),
	errors: prometheus.NewDesc("channelgate_etcd_errors_total",
		"Failed etcd calls and broken watches.", nil, nil),
	conflicts: prometheus.NewDesc("channelgate_etcd_conflicts_total",
		"Write transactions run again because another writer committed first.", nil, nil),
}

type etcdCollector struct {
	lag, stale, reloads, errors, conflicts *prometheus.Desc
}

func (c etcdCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lag, c.stale, c.reloads, c.errors, c.conflicts} {
		ch <- d
	}
}

func (c etcdCollector) Collect(ch chan<- prometheus.Metric) {
	var sum etcdstore.Stats
	n := 0
	etcdBackends.Range(func(_, v any) bool {
		st := v.(*etcdstore.Backend).Stats()
		n++
		sum.Lag = max(sum.Lag, st.Lag)
		sum.Stale = sum.Stale || st.Stale
		sum.Reloads += st.Reloads
		sum.Errors += st.Errors
		sum.Conflicts += st.Conflicts
		return true
	})
	if n == 0 {
		return
	}
	stale := 0.0
	if sum.Stale {
		stale = 1
	}
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, sum.Lag.Seconds())
	ch <- prometheus.MustNewConstMetric(c.stale, prometheus.GaugeValue, stale)
	ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(sum.Reloads))
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(sum.Errors))
	ch <- prometheus.MustNewConstMetric(c.conflicts, prometheus.CounterValue, float64(sum.Conflicts))
}
