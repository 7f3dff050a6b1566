package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// gatewaysLockTTL is the lease of the index locks in
// TestGatewaysPublishing: short, so that a killed gateway's lock ends
// soon.
const gatewaysLockTTL = 2 * time.Second

// gatewaysLocks is where the gateways of the tests keep their etcd locks.
const gatewaysLocks = "/channelgate-test/_locks/"

// publishLoad uploads into alice's noarch subdir through some gateways
// and remembers what was acknowledged.
type publishLoad struct {
	g     *etcdGateways
	mu    sync.Mutex
	acked map[string]string // file name → sha256
	// busy counts posts refused with 503 (the store's write
	// transactions conflicting too often; not the index lock).
	busy atomic.Int64
}

// run has workers uploaders on each gateway in which upload batch
// packages each (names starting with tag) until done or ctx ends.
func (l *publishLoad) run(ctx context.Context, which []int, workers, batch int, tag string) {
	var wg sync.WaitGroup
	for _, i := range which {
		for w := range workers {
			pkgs, names := make([][]byte, batch), make([]string, batch)
			for k := range pkgs {
				c := indextest.Conda{Name: fmt.Sprintf("%s-g%d-w%d-p%d", tag, i, w, k), Version: "1.0", Build: "0", Subdir: "noarch"}
				pkgs[k], names[k] = indextest.CondaPackage(l.g.t, c), c.FileName()
			}
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
			wg.Go(func() {
				for k := range pkgs {
					if ctx.Err() != nil {
						return
					}
					switch uploadOnce(ctx, client, l.g.gw[i].base, names[k], pkgs[k]) {
					case http.StatusCreated:
						sum := sha256.Sum256(pkgs[k])
						l.mu.Lock()
						l.acked[names[k]] = hex.EncodeToString(sum[:])
						l.mu.Unlock()
					case http.StatusServiceUnavailable:
						l.busy.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
}

// lockKeys counts the index lock keys (holders and waiters) in etcd.
func lockKeys(t *testing.T, cli *clientv3.Client) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, gatewaysLocks, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return int(resp.Count)
}

// TestGatewaysPublishing publishes into one subdir of the storage the
// three gateways share. Uploads through gateways 1 and 2 at once lose no
// record. Then gateway 3 alone publishes and is killed (SIGKILL) while
// it holds or waits for the subdir's etcd lock: its lease ends after
// lock_ttl, an upload through gateway 1 goes through, and no index lists
// a missing or partial file.
func TestGatewaysPublishing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and Caddy processes")
	}
	g := startEtcdGateways(t, gatewaysConfig{publish: true, lockTTL: gatewaysLockTTL})
	g.user(0, "alice")
	load := &publishLoad{g: g, acked: map[string]string{}}

	const workers, batch = 4, 10
	start := time.Now()
	load.run(context.Background(), []int{0, 1}, workers, batch, "both")
	if len(load.acked)+int(load.busy.Load()) != 2*workers*batch || len(load.acked) == 0 {
		t.Fatalf("%d of %d concurrent uploads acknowledged, %d refused with 503", len(load.acked), 2*workers*batch, load.busy.Load())
	}
	checkUploadIndex(t, g.storage, load.acked)
	t.Logf("%d uploads through gateways 1 and 2 at once acknowledged in %v, all listed (%d more refused with 503)",
		len(load.acked), time.Since(start).Round(time.Millisecond), load.busy.Load())

	cli := g.etcd.Client()
	ctx, cancel := context.WithCancel(context.Background())
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		load.run(ctx, []int{2}, workers, 100, "killed")
	}()
	deadline := time.Now().Add(20 * time.Second)
	for lockKeys(t, cli) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	g.gw[2].kill()
	killed := time.Now()
	held := lockKeys(t, cli)
	cancel()
	<-loaded
	if held == 0 {
		t.Fatal("gateway 3 was killed holding no index lock: the test proves nothing")
	}
	before := len(load.acked)
	load.run(context.Background(), []int{0}, 1, 1, "after")
	if len(load.acked) != before+1 {
		t.Fatal("an upload through gateway 1 after gateway 3 was killed was not acknowledged")
	}
	t.Logf("gateway 3 killed holding %d lock keys; gateway 1's next upload acknowledged %v later (lock_ttl %v)",
		held, time.Since(killed).Round(time.Millisecond), gatewaysLockTTL)
	if n := lockKeys(t, cli); n != 0 {
		t.Errorf("%d lock keys left after the upload", n)
	}
	checkUploadIndex(t, g.storage, load.acked)
}
