package etcdstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/channelgate/channelgate/internal/etcdtest"
	"github.com/channelgate/channelgate/tokenstore"
	"github.com/channelgate/channelgate/tokenstore/backendtest"
	"github.com/channelgate/channelgate/tokenstore/etcdstore"
)

// prefixes numbers the key prefixes of a test run, one per fresh backend.
var prefixes atomic.Int64

// open connects to c under prefix.
func open(t *testing.T, c *etcdtest.Cluster, prefix string) *etcdstore.Backend {
	t.Helper()
	be, err := etcdstore.Open(etcdstore.Config{Endpoints: c.Endpoints(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// TestEtcdConformance runs the backend conformance suite on a real
// three-member etcd cluster, each check under a prefix of its own, the
// two-gateway checks on two clients of the same prefix.
func TestEtcdConformance(t *testing.T) {
	c := etcdtest.Start(t, 3)
	prefixOf := map[tokenstore.Backend]string{}
	backendtest.Run(t, func(t *testing.T) tokenstore.Backend {
		p := fmt.Sprintf("/conformance/%d/", prefixes.Add(1))
		be := open(t, c, p)
		prefixOf[be] = p
		return be
	}, func(t *testing.T, be tokenstore.Backend) tokenstore.Backend {
		return open(t, c, prefixOf[be])
	})
}

// BenchmarkFresh is what etcd adds to a cache hit over bbolt: the
// staleness check, made twice per decision (token cache, access view).
//
//	go test -run '^$' -bench Fresh ./tokenstore/etcdstore/
func BenchmarkFresh(b *testing.B) {
	c := etcdtest.Start(b, 1)
	be, err := etcdstore.Open(etcdstore.Config{Endpoints: c.Endpoints()})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	for b.Loop() {
		if err := be.Fresh(); err != nil {
			b.Fatal(err)
		}
	}
}
