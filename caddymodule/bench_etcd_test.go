package caddymodule

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/channelgate/channelgate/internal/etcdtest"
)

// BenchmarkStoreBackends runs the handler's common download side by side
// on bbolt and on a real three-member etcd cluster on loopback: cache
// hits (the token cached, as BenchmarkServeHTTPCacheHit) and cache misses
// (a one-entry cache and two tokens taken in turn, so every request reads
// the token from the store: one bbolt read, or one linearizable etcd
// read).
//
//	go test -run '^$' -bench StoreBackends -benchmem ./caddymodule/
func BenchmarkStoreBackends(b *testing.B) {
	cluster := etcdtest.Start(b, 3)
	runs := 0
	stores := []struct {
		name string
		cfg  func(b *testing.B, prefix string) StoreConfig
	}{
		{"bbolt", func(b *testing.B, _ string) StoreConfig {
			return StoreConfig{DB: filepath.Join(b.TempDir(), "bench.db"), CacheSize: 1}
		}},
		{"etcd", func(b *testing.B, prefix string) StoreConfig {
			// A prefix per run: -count runs again on the same cluster.
			runs++
			prefix = fmt.Sprintf("%s%d/", prefix, runs)
			return StoreConfig{backend: &EtcdStore{Endpoints: cluster.Endpoints(), Prefix: prefix}, CacheSize: 1}
		}},
	}
	for _, st := range stores {
		b.Run("hit/"+st.name, func(b *testing.B) {
			cfg := st.cfg(b, "/bench-hit/")
			cfg.CacheSize = 0
			h, secret := benchHandlerOn(b, cfg, "dl")
			benchServe(b, h, benchRequest{path: "/t/" + secret + benchFile})
		})
		b.Run("miss/"+st.name, func(b *testing.B) {
			h, one := benchHandlerOn(b, st.cfg(b, "/bench-miss/"), "one")
			two := benchToken(b, h, "two")
			benchServe(b, h, benchRequest{path: "/t/" + one + benchFile}, benchRequest{path: "/t/" + two + benchFile})
		})
	}
}
