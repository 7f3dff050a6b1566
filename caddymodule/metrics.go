package caddymodule

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// The collectors live once per process and are registered on every
// configuration's metrics registry (Caddy's global registry is not
// served). No label carries a token, a user or an address.
var (
	decisionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "channelgate",
		Name:      "decisions_total",
		Help:      "Access decisions by outcome (allow, unauthenticated, forbidden, bad_request, unavailable) and reason.",
	}, []string{"outcome", "reason"})

	uploadsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "channelgate",
		Name:      "uploads_total",
		Help:      "Uploads through the API by kind (conda, pypi) and outcome (ok, refused, invalid, failed).",
	}, []string{"kind", "outcome"})

	uploadBytesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "channelgate",
		Name:      "upload_bytes_total",
		Help:      "Bytes of package files published through the API, by kind.",
	}, []string{"kind"})

	lookupSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "channelgate",
		Name:      "store_lookup_seconds",
		Help:      "Time of token lookups that missed the cache and read the store.",
		Buckets:   prometheus.ExponentialBuckets(1e-6, 4, 10),
	})

	passwordSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "channelgate",
		Name:      "password_check_seconds",
		Help:      "Time of password hashes (argon2id, at most max_password_checks at once), unknown names included.",
		Buckets:   prometheus.ExponentialBuckets(0.005, 2, 10),
	})

	storeStats = storeCollector{
		hits:      prometheus.NewDesc("channelgate_cache_hits_total", "Token cache hits.", nil, nil),
		misses:    prometheus.NewDesc("channelgate_cache_misses_total", "Token cache misses (store reads).", nil, nil),
		evictions: prometheus.NewDesc("channelgate_cache_evictions_total", "Token cache evictions.", nil, nil),
		entries:   prometheus.NewDesc("channelgate_cache_entries", "Token cache entries.", nil, nil),
		tokens:    prometheus.NewDesc("channelgate_tokens", "Live (not revoked) tokens in the store.", nil, nil),
	}
)

// Gateway-level reasons, beside tokenstore's.
const (
	reasonBadRequest tokenstore.Reason = "bad_request"
	reasonBadMethod  tokenstore.Reason = "method_not_allowed"
	reasonHidden     tokenstore.Reason = "hidden"
	// reasonNotChannel: / or a reserved name (see errNotChannel), 404.
	reasonNotChannel tokenstore.Reason = "not_a_channel"
)

// outcomeOf names the outcome label of a reason.
func outcomeOf(r tokenstore.Reason) string {
	switch r {
	case tokenstore.ReasonPublic, tokenstore.ReasonGranted:
		return "allow"
	case tokenstore.ReasonMissingScope, tokenstore.ReasonNoPermission:
		return "forbidden"
	case tokenstore.ReasonStoreError:
		return "unavailable"
	case reasonBadRequest, reasonBadMethod:
		return "bad_request"
	case reasonHidden, reasonNotChannel:
		return "not_found"
	case reasonRateLimited:
		return "rate_limited"
	}
	return "unauthenticated"
}

// decisionCounters resolves each reason's counter once, so counting a
// decision costs a map read and an atomic add.
var decisionCounters = func() map[tokenstore.Reason]prometheus.Counter {
	m := map[tokenstore.Reason]prometheus.Counter{}
	for _, r := range append(tokenstore.Reasons, reasonBadRequest, reasonBadMethod, reasonHidden, reasonNotChannel, reasonRateLimited) {
		m[r] = decisionsTotal.WithLabelValues(outcomeOf(r), string(r))
	}
	return m
}()

func countDecision(r tokenstore.Reason) { decisionCounters[r].Inc() }

func observeLookup(d time.Duration) { lookupSeconds.Observe(d.Seconds()) }

func observePasswordCheck(d time.Duration) { passwordSeconds.Observe(d.Seconds()) }

// countUpload counts one upload's outcome and, if it was published, its
// bytes.
func countUpload(e admin.UploadEvent) {
	uploadsTotal.WithLabelValues(string(e.Kind), e.Outcome).Inc()
	if e.Bytes > 0 {
		uploadBytesTotal.WithLabelValues(string(e.Kind)).Add(float64(e.Bytes))
	}
}

// registerMetrics adds the collectors to a registry, once.
func registerMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{decisionsTotal, uploadsTotal, uploadBytesTotal, lookupSeconds, passwordSeconds, storeStats, etcdStats} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// storeCollector reports the counters of every open store, summed.
type storeCollector struct {
	hits, misses, evictions, entries, tokens *prometheus.Desc
}

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hits
	ch <- c.misses
	ch <- c.evictions
	ch <- c.entries
	ch <- c.tokens
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	var sum tokenstore.CacheStats
	var tokens int64
	openStores.Range(func(_, v any) bool {
		s := v.(*tokenstore.Store)
		st := s.CacheStats()
		sum.Hits += st.Hits
		sum.Misses += st.Misses
		sum.Evictions += st.Evictions
		sum.Entries += st.Entries
		tokens += s.TokenCount()
		return true
	})
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(sum.Hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(sum.Misses))
	ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(sum.Evictions))
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(sum.Entries))
	ch <- prometheus.MustNewConstMetric(c.tokens, prometheus.GaugeValue, float64(tokens))
}
