// Command load is channelgate's load benchmark: it starts the built
// ./caddy several times on 127.0.0.1, once per variant, serves the same
// files through each, drives them in interleaved rounds with wrk and
// prints requests/s and latency per variant, each relative to plain
// Caddy. It also reports the cost of a store with a million tokens.
//
//	go run ./bench/load            # full run, about 7 minutes (+40 s the first time: 1M tokens)
//	go run ./bench/load -quick     # smoke run, about 1 minute
//
// Variants:
//
//	a  plain Caddy file_server
//	b  channelgate, private package, one valid token (cache hot)
//	c  channelgate, 1M tokens stored, requests cycling over more distinct
//	   tokens than the cache holds (every lookup misses the cache)
//	d  Caddy basic_auth (bcrypt, with its cache)
//	e  Caddy forward_auth to a minimal auth service answering 200
//	f  as b, measured while a second wrk floods the same Caddy with
//	   well-formed but unknown tokens from another client address (sent
//	   as X-Forwarded-For through a proxy f trusts), with the default
//	   failure_limit; -flood-limit=false turns the limit off, measuring
//	   what rejecting each bad token costs
//	g  plain Caddy file_server with an access log (JSON, to a file)
//	h  Caddyfile.example as shipped (access log through the token mask,
//	   the /api and metrics routes), same access log output, one valid
//	   token in the path: the ratio h/g is what channelgate costs a site
//	   that keeps an access log
//
// Everything listens on 127.0.0.1 only; every child process is killed on
// exit, and the run is bounded by -timeout.
package main

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed wrk.lua
var wrkScript string

type config struct {
	caddy      string
	data       string
	tokens     int
	distinct   int
	cacheSize  int
	scaleCache int
	rounds     int
	duration   time.Duration
	warmup     time.Duration
	threads    int
	conns      int
	floodConns int
	floodDelay int
	floodKind  string
	floodLimit bool
	port       int
	timeout    time.Duration
	only       string
	example    string
	keep       bool
	prepare    bool
	scale      bool
}

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench: ")
	var c config
	quick := flag.Bool("quick", false, "smoke run (~1 minute): 1 round of 2s, 100,000 tokens")
	flag.StringVar(&c.caddy, "caddy", "./caddy", "Caddy binary with channelgate (./xcaddy.sh builds it)")
	flag.StringVar(&c.data, "data", "bench/.data", "cache of the generated token database and token files")
	flag.IntVar(&c.tokens, "tokens", 1_000_000, "tokens in the big store (variant c and the scale figures)")
	flag.IntVar(&c.distinct, "distinct", 100_000, "distinct tokens variant c cycles through")
	flag.IntVar(&c.cacheSize, "cache", 10_000, "cache_size of variant c")
	flag.IntVar(&c.scaleCache, "scale-cache", 100_000, "cache_size of the resident-memory measurement (warmed with as many tokens)")
	flag.IntVar(&c.rounds, "rounds", 7, "rounds of a..f per file")
	flag.DurationVar(&c.duration, "d", 3*time.Second, "duration of one wrk run")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up per variant and file before the rounds")
	flag.IntVar(&c.threads, "t", 2, "wrk threads (client and server share the machine)")
	flag.IntVar(&c.conns, "c", 32, "wrk connections")
	flag.IntVar(&c.floodConns, "flood-c", 8, "connections of the invalid-token flood (variant f)")
	flag.IntVar(&c.floodDelay, "flood-delay", 0, "ms each flood connection waits before a request (0: as fast as it can)")
	flag.StringVar(&c.floodKind, "flood", "unknown", "flood of variant f: unknown (well-formed tokens no store holds), "+
		"malformed (bad checksum: refused before any lookup) or valid (f's own valid token: the CPU-sharing control)")
	flag.BoolVar(&c.floodLimit, "flood-limit", true, "variant f runs with the default failure_limit and its flood comes from another client address; "+
		"false: no limit, every flood request is looked up and refused")
	flag.IntVar(&c.port, "port", 27180, "first of the loopback ports used (a..f, the auth service, metrics)")
	flag.DurationVar(&c.timeout, "timeout", 15*time.Minute, "hard limit of the whole run")
	flag.StringVar(&c.only, "only", "abcdefgh", "variants to run (a is always run: it is the reference)")
	flag.StringVar(&c.example, "example", "Caddyfile.example", "the Caddyfile variant h runs as it is")
	flag.BoolVar(&c.keep, "keep", false, "keep the run's temporary folder (Caddyfiles, logs)")
	flag.BoolVar(&c.scale, "scale", true, "measure start-up and memory with the big store after the rounds")
	flag.BoolVar(&c.prepare, "prepare", false, "only build (or check) the cached token store, then exit")
	flag.Parse()
	if *quick {
		setDefault("tokens", func() { c.tokens = 100_000 })
		setDefault("distinct", func() { c.distinct = 50_000 })
		setDefault("scale-cache", func() { c.scaleCache = 50_000 })
		setDefault("rounds", func() { c.rounds = 1 })
		setDefault("d", func() { c.duration = 2 * time.Second })
		setDefault("warmup", func() { c.warmup = time.Second })
		setDefault("timeout", func() { c.timeout = 5 * time.Minute })
	}
	if !strings.Contains(c.only, "a") {
		c.only = "a" + c.only
	}
	var err error
	if c.data, err = filepath.Abs(c.data); err != nil {
		log.Fatal(err)
	}
	if c.distinct > c.tokens {
		log.Fatalf("-distinct %d is more than -tokens %d", c.distinct, c.tokens)
	}

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	code := 0
	if err := run(ctx, &c); err != nil {
		log.Print(err)
		code = 1
	}
	stop()
	cancel()
	os.Exit(code)
}

// setDefault applies a -quick default unless the flag was given.
func setDefault(name string, set func()) {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	if !given {
		set()
	}
}

// child is a started process and the channel closed when it exits.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startChild(cmd *exec.Cmd) (*child, error) {
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := &child{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(ch.exited) }()
	return ch, nil
}

// stop ends the child: SIGTERM, then SIGKILL after two seconds.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(2 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// procs are the child processes, stopped on the way out whatever happens.
type procs struct {
	mu   sync.Mutex
	list []*child
}

func (p *procs) add(c *child) { p.mu.Lock(); p.list = append(p.list, c); p.mu.Unlock() }

func (p *procs) killAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.list {
		c.stop()
	}
	p.list = nil
}

// childAttr makes a child die with this process even if it is killed
// without a chance to clean up.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

type variant struct {
	key, title string
	port       int
	global     string // Caddyfile global options beyond the common ones
	site       string // Caddyfile site body
	// file, if set, is a Caddyfile run as it is (instead of global and
	// site), configured through env.
	file string
	env  []string
	db   string // store of a channelgate variant
	// requests for a file (its path below /acme/noarch/)
	args func(file string) []string
	proc *child
	up   time.Duration // process start until the first 200
}

var files = []struct{ name, label string }{
	{"secret-1.0-0.conda", "4 KiB .conda"},
	{"repodata.json", "1.2 MiB repodata.json"},
}

func run(ctx context.Context, c *config) error {
	var ps procs
	defer ps.killAll()
	if c.prepare {
		_, err := prepareBigStore(c.data, c.tokens)
		return err
	}

	caddyBin, err := filepath.Abs(c.caddy)
	if err != nil {
		return err
	}
	if _, err := os.Stat(caddyBin); err != nil {
		return fmt.Errorf("%v: build it first with ./xcaddy.sh", err)
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk not found: apt-get install -y wrk")
	}
	for i := range 12 {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", c.port+i))
		if err != nil {
			return fmt.Errorf("port %d is taken (use -port): %v", c.port+i, err)
		}
		l.Close()
	}

	tmp, err := os.MkdirTemp("", "channelgate-load-")
	if err != nil {
		return err
	}
	if c.keep {
		log.Printf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	// Fixtures: the storage, the stores, the scripts.
	storage := filepath.Join(tmp, "storage")
	if err := writeStorage(storage); err != nil {
		return err
	}
	big, err := prepareBigStore(c.data, c.tokens)
	if err != nil {
		return err
	}
	secretB, dbB, err := smallStore(filepath.Join(tmp, "b.db"))
	if err != nil {
		return err
	}
	secretF, dbF, err := smallStore(filepath.Join(tmp, "f.db"))
	if err != nil {
		return err
	}
	secretH, dbH, err := smallStore(filepath.Join(tmp, "h.db"))
	if err != nil {
		return err
	}
	example, err := filepath.Abs(c.example)
	if err != nil {
		return err
	}
	validFile := filepath.Join(tmp, "valid.txt")
	if err := os.WriteFile(validFile, []byte(secretF+"\n"), 0o600); err != nil {
		return err
	}
	switch c.floodKind {
	case "unknown", "malformed", "valid":
	default:
		return fmt.Errorf("-flood must be unknown, malformed or valid, not %q", c.floodKind)
	}
	garbage := filepath.Join(tmp, "garbage.txt")
	if err := writeGarbageTokens(garbage, 200_000, c.floodKind); err != nil {
		return err
	}
	// Variant c runs on a copy of the big store: the scale measurement
	// needs the cached file while c's Caddy holds its lock.
	dbC := filepath.Join(tmp, "c.db")
	if err := copyFile(big.db, dbC); err != nil {
		return err
	}
	script := filepath.Join(tmp, "wrk.lua")
	flood := filepath.Join(tmp, "flood.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(flood, []byte(wrkScript+"\nfunction delay() return pause end\n"), 0o644); err != nil {
		return err
	}
	const password = "bench-password"
	hash, err := exec.CommandContext(ctx, caddyBin, "hash-password", "--plaintext", password).Output()
	if err != nil {
		return fmt.Errorf("caddy hash-password: %v", err)
	}

	// The minimal auth service of variant e.
	authPort := c.port + 6
	authSrv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", authPort),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })}
	authLn, err := net.Listen("tcp", authSrv.Addr)
	if err != nil {
		return err
	}
	go func() { _ = authSrv.Serve(authLn) }()
	defer authSrv.Close()

	root := fileServer(storage)
	fixed := func(prefix, auth string) func(string) []string {
		return func(file string) []string { return []string{"fixed", prefix + "/acme/noarch/" + file, auth} }
	}
	cg := func(db string, cache int) string { return channelgateBlock(db, cache, false) }
	basicHdr := "Basic " + b64("bench:"+password)
	var cDone int64 // tokens each thread of variant c went through so far
	all := []*variant{
		{key: "a", title: "plain file_server", site: root, args: fixed("", "")},
		{key: "b", title: "channelgate, valid token, cache hot", db: dbB, site: cg(dbB, 10_000) + root,
			args: fixed("/t/"+secretB, "")},
		{key: "c", title: fmt.Sprintf("channelgate, %s tokens, %s cycled, cache %s", human(c.tokens), human(c.distinct), human(c.cacheSize)),
			db: dbC, site: cg(dbC, c.cacheSize) + root,
			args: func(file string) []string {
				// Each run starts where the last left off.
				return []string{"cycle", "/acme/noarch/" + file, big.tokens, strconv.Itoa(c.distinct), "0", strconv.FormatInt(cDone, 10)}
			}},
		{key: "d", title: "basic_auth (bcrypt, cached)", site: fmt.Sprintf("\tbasic_auth {\n\t\tbench %s\n\t}\n", strings.TrimSpace(string(hash))) + root,
			args: fixed("", basicHdr)},
		{key: "e", title: "forward_auth to a 200 service", site: fmt.Sprintf("\tforward_auth 127.0.0.1:%d {\n\t\turi /auth\n\t}\n", authPort) + root,
			args: fixed("", "token "+secretB)},
		{key: "f", title: "as b, under an invalid-token flood", db: dbF, site: channelgateBlock(dbF, 10_000, c.floodLimit) + root,
			global: floodGlobal(c.floodLimit), args: fixed("/t/"+secretF, "")},
		// g and h come after the auth service (+6) and c's metrics (+8).
		{key: "g", port: c.port + 9, title: "plain file_server, access log to a file", site: accessLog(tmp, "g") + root, args: fixed("", "")},
		{key: "h", port: c.port + 10, title: "Caddyfile.example, access log to a file, valid token", file: example,
			env: exampleEnv(tmp, c.port+10, c.port+11, dbH, storage), args: fixed("/t/"+secretH, "")},
	}
	var vs []*variant
	for i, v := range all {
		if v.port == 0 {
			v.port = c.port + i
		}
		if strings.Contains(c.only, v.key) {
			vs = append(vs, v)
		}
	}

	// Start every variant, one after the other, timing each start-up.
	for _, v := range vs {
		cf := filepath.Join(tmp, "Caddyfile."+v.key)
		metricsPort := 0
		if v.key == "c" {
			metricsPort = c.port + 8 // free until the scale measurement
		}
		if v.file != "" {
			cf = v.file
		} else if err := os.WriteFile(cf, []byte(caddyfile(tmp, v.key, v.port, v.global, v.site, metricsPort)), 0o644); err != nil {
			return err
		}
		a := v.args(files[0].name)
		v.proc, v.up, err = startCaddy(ctx, &ps, caddyBin, cf, tmp, v, a[1], authHeader(a), firstToken(a, big.tokens))
		if err != nil {
			return fmt.Errorf("variant %s: %w", v.key, err)
		}
		log.Printf("%s up on 127.0.0.1:%d in %v: %s", v.key, v.port, v.up.Round(time.Millisecond), v.title)
	}

	w := wrkRunner{script: script, threads: c.threads, conns: c.conns}
	base := func(v *variant) string { return fmt.Sprintf("http://127.0.0.1:%d", v.port) }
	floodStats := map[string][]wrkResult{} // by file
	measure := func(v *variant, file string, d time.Duration) (wrkResult, error) {
		if v.key != "f" {
			r, err := w.run(ctx, base(v), d, v.args(file))
			if v.key == "c" {
				cDone += r.Requests / int64(c.threads) // per thread: each goes on from its own offset
			}
			return r, err
		}
		// The flood starts first and outlasts the measurement.
		fw := wrkRunner{script: flood, threads: 1, conns: c.floodConns}
		type out struct {
			r   wrkResult
			err error
		}
		ch := make(chan out, 1)
		go func() {
			args := []string{"cycle", "/acme/noarch/" + file, garbage, "200000", strconv.Itoa(c.floodDelay), strconv.Itoa(rand.IntN(200_000))}
			if c.floodKind == "valid" {
				args = []string{"cycle", "/acme/noarch/" + file, validFile, "1", strconv.Itoa(c.floodDelay), "0"}
			}
			if c.floodLimit {
				args = append(args, floodClient)
			}
			r, err := fw.run(ctx, base(v), d+time.Second, args)
			ch <- out{r, err}
		}()
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return wrkResult{}, ctx.Err()
		}
		r, err := w.run(ctx, base(v), d, v.args(file))
		fo := <-ch
		if err == nil {
			err = fo.err
		}
		if fo.err == nil {
			floodStats[file] = append(floodStats[file], fo.r)
		}
		return r, err
	}

	log.Printf("warm-up: %v per variant and file", c.warmup)
	for _, f := range files {
		for _, v := range vs {
			r, err := measure(v, f.name, c.warmup)
			if err == nil {
				err = r.failed()
			}
			if err != nil {
				return fmt.Errorf("warm-up %s %s: %w", v.key, f.name, err)
			}
		}
	}
	clear(floodStats)

	results := map[string][]wrkResult{} // key+file → per round
	for r := range c.rounds {
		for _, f := range files {
			for _, v := range vs {
				cpu0 := cpuTime(v.proc.pid())
				res, err := measure(v, f.name, c.duration)
				if err != nil {
					return fmt.Errorf("round %d %s %s: %w", r+1, v.key, f.name, err)
				}
				if res.Requests > 0 {
					res.CPUPerReq = float64(cpuTime(v.proc.pid())-cpu0) / float64(time.Microsecond) / float64(res.Requests)
				}
				// A refusal is a broken setup; socket errors and timeouts
				// (a busy machine) are counted and reported instead.
				if res.Status > 0 {
					return fmt.Errorf("round %d %s %s: %w", r+1, v.key, f.name, res.failed())
				}
				results[v.key+f.name] = append(results[v.key+f.name], res)
				log.Printf("round %d/%d %-18s %s: %8.0f req/s  p50 %5dµs  p99 %6dµs  CPU %5.1fµs/req", r+1, c.rounds, f.name, v.key,
					res.rps(), res.P50, res.P99, res.CPUPerReq)
			}
		}
	}

	// Variant c's cache, then stop it: its Caddy holds a store like the
	// scale measurement's.
	var cStats map[string]float64
	for _, v := range vs {
		if v.key == "c" {
			if cStats, err = metrics(ctx, c.port+8); err != nil {
				return err
			}
			v.proc.stop()
		}
	}
	var scale *scaleResult
	if c.scale {
		s, err := measureScale(ctx, &ps, c, caddyBin, tmp, storage, big, w)
		if err != nil {
			return fmt.Errorf("scale: %w", err)
		}
		scale = &s
	}

	report(os.Stdout, c, vs, results, floodStats, cStats, scale)
	return nil
}

func authHeader(args []string) string {
	if args[0] == "fixed" && len(args) > 2 {
		return args[2]
	}
	return ""
}

// firstToken is the token of a cycling variant's first request.
func firstToken(args []string, tokens string) string {
	if args[0] != "cycle" {
		return ""
	}
	f, err := os.Open(tokens)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	return sc.Text()
}

// caddyfile is one Caddy process: global options identical for every
// variant, no access log, and optionally a metrics site on its own port.
func caddyfile(tmp, key string, port int, global, site string, metricsPort int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{\n\tadmin off\n\tauto_https off\n\tstorage file_system %s\n\tlog {\n\t\tlevel ERROR\n\t}\n%s}\n\n",
		filepath.Join(tmp, "caddydata-"+key), global)
	fmt.Fprintf(&b, "http://127.0.0.1:%d {\n%s}\n", port, site)
	if metricsPort != 0 {
		fmt.Fprintf(&b, "\nhttp://127.0.0.1:%d {\n\tmetrics\n}\n", metricsPort)
	}
	return b.String()
}

// startCaddy runs a variant's Caddy and waits for the first 200 on path
// (with the token prefix for cycling variants), returning how long that
// took.
func startCaddy(ctx context.Context, ps *procs, bin, caddyfile, tmp string, v *variant, path, auth, token string) (*child, time.Duration, error) {
	key, port := v.key, v.port
	logf, err := os.Create(filepath.Join(tmp, "caddy-"+key+".log"))
	if err != nil {
		return nil, 0, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "run", "--config", caddyfile, "--adapter", "caddyfile")
	cmd.Stdout, cmd.Stderr = logf, logf
	home := filepath.Join(tmp, "home-"+key)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home+"/data", "XDG_CONFIG_HOME="+home+"/config")
	cmd.Env = append(cmd.Env, v.env...)
	start := time.Now()
	proc, err := startChild(cmd)
	if err != nil {
		return nil, 0, err
	}
	ps.add(proc)
	if token != "" {
		path = "/t/" + token + path
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return proc, time.Since(start), nil
			}
			return nil, 0, fmt.Errorf("GET %s: %s (log: %s)", redact(path), resp.Status, logf.Name())
		}
		select {
		case <-proc.exited:
			return nil, 0, fmt.Errorf("caddy exited; see %s", logf.Name())
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// redact hides the token of a /t/<token>/ path.
func redact(path string) string {
	if rest, ok := strings.CutPrefix(path, "/t/"); ok {
		if _, after, ok := strings.Cut(rest, "/"); ok {
			return "/t/<TOKEN>/" + after
		}
	}
	return path
}

func human(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}

// wrkRunner runs wrk through the shared script.
type wrkRunner struct {
	script         string
	threads, conns int
}

type wrkResult struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Bytes      int64   `json:"bytes"`
	P50        int64   `json:"p50_us"`
	P90        int64   `json:"p90_us"`
	P99        int64   `json:"p99_us"`
	Max        int64   `json:"max_us"`
	Mean       float64 `json:"mean_us"`
	Status     int64   `json:"status"`
	Connect    int64   `json:"connect"`
	Read       int64   `json:"read"`
	Write      int64   `json:"write"`
	Timeout    int64   `json:"timeout"`
	// CPUPerReq is the server process's CPU time (user and system, all
	// threads) per request during the run, in µs: unlike throughput it
	// hardly moves when other jobs share the machine.
	CPUPerReq float64 `json:"-"`
}

// cpuTime is the CPU time a process used so far (utime + stime of
// /proc/<pid>/stat, in clock ticks of 10 ms), 0 if unreadable.
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces), from ")".
	i := strings.LastIndexByte(string(raw), ')')
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// failed reports non-2xx answers and socket errors.
func (r wrkResult) failed() error {
	if n := r.Connect + r.Read + r.Write + r.Timeout; r.Status+n > 0 {
		return fmt.Errorf("%d non-2xx answers, %d socket errors", r.Status, n)
	}
	return nil
}

func (r wrkResult) rps() float64 {
	if r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

func (w wrkRunner) run(ctx context.Context, url string, d time.Duration, args []string) (wrkResult, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmdArgs := []string{"-t", strconv.Itoa(w.threads), "-c", strconv.Itoa(w.conns), "-d", strconv.Itoa(secs) + "s",
		"--timeout", "5s", "-s", w.script, url, "--"}
	cmdArgs = append(cmdArgs, args...)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wrk", cmdArgs...)
	cmd.Env = append(os.Environ(), "WRK_THREADS="+strconv.Itoa(w.threads))
	cmd.SysProcAttr = childAttr()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return parseWrk(out)
}

func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	for line := range strings.SplitSeq(string(out), "\n") {
		if j, ok := strings.CutPrefix(line, "WRKJSON "); ok {
			err := json.Unmarshal([]byte(j), &r)
			return r, err
		}
	}
	return r, fmt.Errorf("no WRKJSON line in wrk output: %s", out)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// channelgateBlock is the channelgate directive of a benchmarked variant.
// The bad-token limit is off unless limited: all load comes from
// 127.0.0.1, so a per-address limit would throttle every client of the
// variant together. Variant f's flood claims another address when it
// runs with the limit.
func channelgateBlock(db string, cache int, limited bool) string {
	limit := "\t\tfailure_limit off\n"
	if limited {
		limit = ""
	}
	return fmt.Sprintf("\tchannelgate {\n\t\tdb %s\n\t\tcache_size %d\n%s\t}\n", db, cache, limit)
}

// floodClient is the address variant f's flood claims (X-Forwarded-For):
// every request comes from 127.0.0.1, so this is how one loopback
// machine shows the gateway two clients.
const floodClient = "192.0.2.66"

// floodGlobal makes f's Caddy take the client address from
// X-Forwarded-For when the limit is on.
func floodGlobal(limit bool) string {
	if !limit {
		return ""
	}
	return "\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}\n"
}

// accessLog is the access log of variant g: Caddy's default (JSON)
// encoder, to a file of the run.
func accessLog(tmp, key string) string {
	return fmt.Sprintf("\tlog {\n\t\toutput file %s\n\t}\n", filepath.Join(tmp, "access-"+key+".log"))
}

// exampleEnv configures Caddyfile.example for variant h (see its header):
// its site on 127.0.0.1:port, no admin endpoint, its metrics listener on
// metricsPort and its access log to a file of the run, as g's.
func exampleEnv(tmp string, port, metricsPort int, db, storage string) []string {
	return []string{
		fmt.Sprintf("CHANNELGATE_LISTEN=http://127.0.0.1:%d", port),
		"CHANNELGATE_DB=" + db,
		"CHANNELGATE_STORAGE=" + storage,
		"CHANNELGATE_ADMIN_TOKEN=bench-operator-secret-0123456789abcdefghij",
		"CHANNELGATE_CADDY_ADMIN=off",
		fmt.Sprintf("CHANNELGATE_METRICS_PORT=%d", metricsPort),
		"CHANNELGATE_ACCESS_LOG=file " + filepath.Join(tmp, "access-h.log"),
	}
}

// fileServer serves the storage folder.
func fileServer(storage string) string {
	return fmt.Sprintf("\troot * %s\n\tfile_server\n", storage)
}
