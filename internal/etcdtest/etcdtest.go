// Package etcdtest starts a real etcd cluster on loopback for a test: the
// etcd binary (Debian's etcd-server) as child processes, data under the
// test's temporary folder, stopped when the test ends. A test that needs
// etcd fails, never skips, when the binary is missing.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Cluster is a running etcd cluster.
type Cluster struct {
	t       testing.TB
	Members []*Member
}

// Member is one etcd process.
type Member struct {
	Name, Dir          string
	ClientURL, PeerURL string
	cluster            string // the --initial-cluster value
	cmd                *exec.Cmd
	exited             chan struct{}
}

// Tuning of the test cluster. Elections are faster than etcd's defaults
// (heartbeat 100ms, election 1s) so that fault tests recover quickly; a
// transaction may hold more operations than the default 128 (README's
// "Running several gateways" says the same for production).
const (
	heartbeatMS  = 50
	electionMS   = 500
	maxTxnOps    = 10000
	startTimeout = 30 * time.Second
)

// Start runs an n-member cluster and waits until it answers.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("etcd"); err != nil {
		t.Fatalf("etcd not installed (Debian: apt-get install etcd-server): %v", err)
	}
	c := &Cluster{t: t}
	dir := t.TempDir()
	var initial []string
	for i := range n {
		m := &Member{Name: fmt.Sprintf("m%d", i), Dir: filepath.Join(dir, fmt.Sprintf("m%d", i)),
			ClientURL: "http://" + freeAddr(t), PeerURL: "http://" + freeAddr(t)}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for _, m := range c.Members {
		m.cluster = strings.Join(initial, ",")
		c.start(m)
	}
	t.Cleanup(c.stopAll)
	c.WaitHealthy()
	return c
}

// freeAddr asks the OS for a free loopback port.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs m's process (again, after Kill or Stop, on the same data).
func (c *Cluster) start(m *Member) {
	c.t.Helper()
	log, err := os.OpenFile(m.Dir+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	m.cmd = exec.Command("etcd",
		"--name", m.Name, "--data-dir", m.Dir,
		"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", m.cluster, "--initial-cluster-state", "new",
		"--initial-cluster-token", "channelgate-test",
		fmt.Sprintf("--heartbeat-interval=%d", heartbeatMS), fmt.Sprintf("--election-timeout=%d", electionMS),
		fmt.Sprintf("--max-txn-ops=%d", maxTxnOps), "--logger=zap", "--log-level=warn")
	m.cmd.Stdout, m.cmd.Stderr = log, log
	// Its own process group (signals to the test's group do not reach
	// it), but killed with the test process: a test binary that dies
	// (panic, timeout) leaves no member behind.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		log.Close()
		c.t.Fatalf("start etcd %s: %v", m.Name, err)
	}
	m.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		log.Close()
		close(exited)
	}(m.cmd, m.exited)
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// Kill ends member i at once (SIGKILL), as a crash would.
func (c *Cluster) Kill(i int) { c.signal(i, syscall.SIGKILL) }

// Stop ends member i cleanly (SIGTERM).
func (c *Cluster) Stop(i int) { c.signal(i, syscall.SIGTERM) }

func (c *Cluster) signal(i int, sig syscall.Signal) {
	m := c.Members[i]
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(sig)
	<-m.exited
	m.cmd = nil
}

// Restart starts member i again on its data after Kill or Stop.
func (c *Cluster) Restart(i int) { c.start(c.Members[i]) }

func (c *Cluster) stopAll() {
	for i := range c.Members {
		c.Kill(i)
	}
}

// Client returns a client on every member, closed at the end of the test.
func (c *Cluster) Client() *clientv3.Client {
	c.t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// WaitHealthy waits until every running member answers a linearizable
// read.
func (c *Cluster) WaitHealthy() {
	c.t.Helper()
	deadline := time.Now().Add(startTimeout)
	for _, m := range c.Members {
		if m.cmd == nil {
			continue
		}
		for {
			err := ping(m.ClientURL)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("etcd %s not healthy after %s: %v\n%s", m.Name, startTimeout, err, c.logTail(m))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// ping does one linearizable read on one member.
func ping(url string) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = cli.Get(ctx, "health")
	return err
}

// Leader returns the index of the current leader, waiting for one.
func (c *Cluster) Leader() int {
	c.t.Helper()
	cli := c.Client()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		for i, m := range c.Members {
			if m.cmd == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := cli.Status(ctx, m.ClientURL)
			cancel()
			if err == nil && st.Leader != 0 && st.Leader == st.Header.MemberId {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("etcd: no leader")
	return -1
}

// Compact compacts the cluster's history up to its current revision with
// etcdctl, as an operator (or etcd's auto-compaction) would.
func (c *Cluster) Compact() {
	c.t.Helper()
	cli := c.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "health")
	if err != nil {
		c.t.Fatal(err)
	}
	out, err := exec.Command("etcdctl", "--endpoints", strings.Join(c.Endpoints(), ","),
		"compact", fmt.Sprint(resp.Header.Revision)).CombinedOutput()
	if err != nil {
		c.t.Fatalf("etcdctl compact: %v: %s", err, out)
	}
}

// logTail is the end of a member's log, for failure messages.
func (c *Cluster) logTail(m *Member) string {
	b, _ := os.ReadFile(m.Dir + ".log")
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
