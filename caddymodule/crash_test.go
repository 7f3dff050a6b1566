package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/channelgate/channelgate/admin"
	"github.com/channelgate/channelgate/tokenstore"
)

// Crash test settings: kill cycles, concurrent API writers, and the range
// of the random delay between the first acknowledged call of a cycle and
// the SIGKILL.
const (
	crashCycles    = 5
	crashWorkers   = 4
	crashMinDelay  = 20 * time.Millisecond
	crashMaxDelay  = 400 * time.Millisecond
	crashOwner     = "alice"
	crashPrivate   = "/alice/noarch/secret-1.0-0.conda"
	crashSeedEnv   = "CHANNELGATE_CRASH_SEED"
	crashVerifyPar = 4 // downloads checked at once after a restart
)

// crashState is what the test knows of one token name.
type crashState int

const (
	stateAbsent  crashState = iota // never created (refused, or creation lost)
	stateLive                      // created and not revoked
	stateRevoked                   // created, then revoked
)

func (s crashState) String() string { return [...]string{"absent", "live", "revoked"}[s] }

// crashToken is the test's model of one token name (names are never
// reused). pending marks a call that was sent but not acknowledged (the
// process died, or the connection broke): its outcome is settled after
// the restart, from what the server shows.
type crashToken struct {
	name    string
	secret  string // "" unless the creation was acknowledged
	state   crashState
	pending string // "", "create" or "revoke"
	worker  int
}

// crashModel is every token name the workers used, with counters for the
// report.
type crashModel struct {
	mu     sync.Mutex
	tokens map[string]*crashToken

	ackCreate, ackRevoke       int // acknowledged calls
	inFlight                   int // calls without an answer (sent when the server died)
	lostCreate, lostRevoke     int // unacknowledged calls that turned out not applied
	appliedCreate, appliedRevk int // unacknowledged calls that turned out applied
}

// crashWorker creates and revokes tokens through the API until ctx ends
// or a call gets no answer (the server was killed), recording each call in
// the model before sending it and its acknowledgement after.
func crashWorker(ctx context.Context, t *testing.T, m *crashModel, op *admin.Client, id, cycle int, rng *rand.Rand, acked *atomic.Int64) {
	n := 0
	for ctx.Err() == nil {
		// Revoke one of this worker's known live tokens 40% of the time.
		var victim *crashToken
		if rng.IntN(10) < 4 {
			m.mu.Lock()
			for _, tok := range m.tokens {
				if tok.worker == id && tok.state == stateLive && tok.pending == "" && tok.secret != "" {
					victim = tok
					break
				}
			}
			if victim != nil {
				victim.pending = "revoke"
			}
			m.mu.Unlock()
		}
		if victim != nil {
			err := op.RevokeToken(ctx, crashOwner, victim.name)
			m.mu.Lock()
			switch {
			case err == nil:
				victim.state, victim.pending = stateRevoked, ""
				m.ackRevoke++
				acked.Add(1)
			case crashAnswered(err):
				t.Errorf("revoke %s: answered %v", victim.name, err)
			default:
				// No answer: the revocation stays pending, and the
				// server is gone.
				m.inFlight++
				m.mu.Unlock()
				return
			}
			m.mu.Unlock()
			continue
		}
		n++
		tok := &crashToken{name: fmt.Sprintf("c%d-w%d-%d", cycle, id, n), pending: "create", worker: id}
		m.mu.Lock()
		m.tokens[tok.name] = tok
		m.mu.Unlock()
		created, err := op.CreateToken(ctx, admin.TokenRequest{Note: tok.name, User: crashOwner,
			Scopes: admin.Scopes{"conda:download"}, FailIfExists: true})
		m.mu.Lock()
		switch {
		case err == nil:
			tok.secret, tok.state, tok.pending = created.Token, stateLive, ""
			m.ackCreate++
			acked.Add(1)
		case crashAnswered(err):
			t.Errorf("create %s: answered %v", tok.name, err)
		default:
			m.inFlight++
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
	}
}

func crashAnswered(err error) bool {
	var e *admin.Error
	return errors.As(err, &e)
}

// crashSeed is the random seed: CHANNELGATE_CRASH_SEED, or the clock.
func crashSeed(t *testing.T) uint64 {
	if v := os.Getenv(crashSeedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", crashSeedEnv, err)
		}
		return s
	}
	return uint64(time.Now().UnixNano())
}

// TestCrashSafety kills the server with SIGKILL while several clients
// create and revoke tokens through the API, restarts it on the same bbolt
// file, and checks that every acknowledged change survived, that nothing
// unacknowledged is half-applied, and that the file passes bbolt's
// consistency check.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills Caddy processes")
	}
	seed := crashSeed(t)
	t.Logf("seed %d (rerun with %s=%d)", seed, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	content := fmt.Appendf(nil, "SECRET-PACKAGE-%d", seed)
	procWriteFile(t, filepath.Join(storage, filepath.FromSlash(crashPrivate)), content)
	db := filepath.Join(dir, "cg.db")
	adminPort, sitePort := procFreePort(t), procFreePort(t)
	config := filepath.Join(dir, "Caddyfile")
	procWriteFile(t, config, []byte(processCaddyfile(processConfig{AdminPort: adminPort, SitePort: sitePort, DB: db, Storage: storage})))

	m := &crashModel{tokens: map[string]*crashToken{}}
	kills := 0
	for cycle := 1; cycle <= crashCycles+1; cycle++ {
		p := startCaddy(t, dir, fmt.Sprintf("caddy-%d", cycle), config, adminPort, sitePort)
		p.waitReady()
		op := &admin.Client{BaseURL: p.base + "/api", Token: operatorSecret,
			HTTP: &http.Client{Timeout: 30 * time.Second}}
		if cycle == 1 {
			crashSeedStore(t, op)
		} else {
			m.verify(t, p, op, content)
			if t.Failed() {
				t.Fatalf("after restart %d: state lost or half-applied (seed %d); log:\n%s", cycle-1, seed, p.output())
			}
		}
		if cycle > crashCycles {
			p.kill()
			break
		}

		ctx, cancel := context.WithCancel(context.Background())
		var acked atomic.Int64
		var wg sync.WaitGroup
		for w := range crashWorkers {
			wrng := rand.New(rand.NewPCG(seed, uint64(cycle*100+w)))
			client := &admin.Client{BaseURL: op.BaseURL, Token: operatorSecret,
				HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}}
			wg.Go(func() { crashWorker(ctx, t, m, client, w, cycle, wrng, &acked) })
		}
		// Let the workers get going (bounded), then kill at a random moment.
		for i := 0; i < 600 && acked.Load() == 0; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if acked.Load() == 0 {
			cancel()
			wg.Wait()
			t.Fatalf("cycle %d: no API call acknowledged; log:\n%s", cycle, p.output())
		}
		delay := crashMinDelay + time.Duration(rng.Int64N(int64(crashMaxDelay-crashMinDelay)))
		time.Sleep(delay)
		p.kill()
		kills++
		cancel()
		wg.Wait()
		if code, err := p.exitCode(0); err != nil || code != -1 {
			t.Fatalf("cycle %d: caddy exited on its own (%d, %v) before the kill:\n%s", cycle, code, err, p.output())
		}
		// The process is dead: the file is what a crash left.
		crashCheckBoltFile(t, db, m)
		m.mu.Lock()
		t.Logf("cycle %d: killed after %v; %d creations and %d revocations acknowledged so far", cycle, delay, m.ackCreate, m.ackRevoke)
		m.mu.Unlock()
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
	crashCheckBoltFile(t, db, m)
	live, revoked := 0, 0
	for _, tok := range m.tokens {
		switch tok.state {
		case stateLive:
			live++
		case stateRevoked:
			revoked++
		}
	}
	t.Logf("seed %d: %d kills; acknowledged %d creations and %d revocations, all kept; %d calls without an answer: %d creations and %d revocations applied whole, %d and %d not applied; final state %d live and %d revoked tokens",
		seed, kills, m.ackCreate, m.ackRevoke, m.inFlight, m.appliedCreate, m.appliedRevk, m.lostCreate, m.lostRevoke, live, revoked)
}

// crashSeedStore creates the user owning the tokens and its private
// package.
func crashSeedStore(t *testing.T, op *admin.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := op.CreateUser(ctx, admin.NewUserRequest{Login: crashOwner, Email: crashOwner + "@example.com",
		Password: "alice-pw1", PasswordConfirmation: "alice-pw1", AcceptTerms: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := op.CreatePackage(ctx, crashOwner, "secret", admin.PackageRequest{Public: new(bool)}); err != nil {
		t.Fatal(err)
	}
}

// verify settles the pending calls from what the restarted server shows,
// then checks the server against the model: token listing, audit log and
// downloads.
func (m *crashModel) verify(t *testing.T, p *caddyProcess, op *admin.Client, content []byte) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	ctx := context.Background()
	list, err := op.Tokens(ctx, crashOwner)
	if err != nil {
		t.Fatalf("listing tokens: %v", err)
	}
	listed := map[string]bool{}
	for _, ti := range list {
		if listed[ti.Application] {
			t.Errorf("token %s listed twice", ti.Application)
		}
		listed[ti.Application] = true
	}
	creates, revokes := crashAuditEvents(t, p, op)

	for name := range listed {
		if m.tokens[name] == nil {
			t.Errorf("token %s listed but never asked for", name)
		}
	}
	for name := range creates {
		if m.tokens[name] == nil {
			t.Errorf("audit log records creating %s, never asked for", name)
		}
	}
	for _, tok := range m.tokens {
		switch tok.pending {
		case "create":
			// The secret never reached the client: the token is either
			// whole (listed) or absent.
			if listed[tok.name] {
				tok.state = stateLive
				m.appliedCreate++
			} else {
				tok.state = stateAbsent
				m.lostCreate++
			}
		case "revoke":
			if listed[tok.name] {
				tok.state = stateLive
				m.lostRevoke++
			} else {
				tok.state = stateRevoked
				m.appliedRevk++
			}
		}
		tok.pending = ""
		wantCreates, wantRevokes := 0, 0
		switch tok.state {
		case stateLive:
			wantCreates = 1
			if !listed[tok.name] {
				t.Errorf("token %s (acknowledged) not listed", tok.name)
			}
		case stateRevoked:
			wantCreates, wantRevokes = 1, 1
			if listed[tok.name] {
				t.Errorf("token %s (revocation acknowledged) still listed", tok.name)
			}
		case stateAbsent:
			if listed[tok.name] {
				t.Errorf("token %s listed but absent", tok.name)
			}
		}
		if creates[tok.name] != wantCreates || revokes[tok.name] != wantRevokes {
			t.Errorf("token %s is %s, but the audit log records %d creations and %d revocations",
				tok.name, tok.state, creates[tok.name], revokes[tok.name])
		}
	}

	// Downloads with every token whose secret the client holds.
	type check struct {
		tok    *crashToken
		status int
		body   string
		err    error
	}
	var checks []*check
	for _, tok := range m.tokens {
		if tok.secret != "" {
			checks = append(checks, &check{tok: tok})
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	next := make(chan *check)
	for range crashVerifyPar {
		wg.Go(func() {
			for c := range next {
				c.status, c.body, c.err = procGet(client, p.base, "/t/"+c.tok.secret+crashPrivate, nil, nil)
			}
		})
	}
	for _, c := range checks {
		next <- c
	}
	close(next)
	wg.Wait()
	for _, c := range checks {
		switch {
		case c.err != nil:
			t.Errorf("download with %s: %v", c.tok.name, c.err)
		case c.tok.state == stateLive && (c.status != http.StatusOK || c.body != string(content)):
			t.Errorf("download with live token %s: %d %.80q", c.tok.name, c.status, c.body)
		case c.tok.state == stateRevoked && (c.status != http.StatusUnauthorized || !strings.Contains(c.body, "token revoked")):
			t.Errorf("download with revoked token %s: %d %.80q", c.tok.name, c.status, c.body)
		}
	}
}

// crashAuditEvents reads the whole audit log through the API and counts
// token creations and revocations of the crash owner per token name.
func crashAuditEvents(t *testing.T, p *caddyProcess, op *admin.Client) (creates, revokes map[string]int) {
	t.Helper()
	creates, revokes = map[string]int{}, map[string]int{}
	client := &http.Client{Timeout: 30 * time.Second}
	after := uint64(0)
	for page := 0; ; page++ {
		if page > 100000 {
			t.Fatal("audit log does not end")
		}
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/audit?after=%d&limit=100", p.base, after), nil)
		req.Header.Set("Authorization", "token "+op.Token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("reading the audit log: %v", err)
		}
		var events []struct {
			Seq    uint64 `json:"seq"`
			Action string `json:"action"`
			Target string `json:"target"`
		}
		err = json.NewDecoder(resp.Body).Decode(&events)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("reading the audit log: %s %v", resp.Status, err)
		}
		if len(events) == 0 {
			return creates, revokes
		}
		for _, ev := range events {
			if ev.Seq <= after {
				t.Fatalf("audit log goes back: %d after %d", ev.Seq, after)
			}
			after = ev.Seq
			name, ok := strings.CutPrefix(ev.Target, crashOwner+"/")
			if !ok {
				continue
			}
			switch ev.Action {
			case "token.create":
				creates[name]++
			case "token.revoke":
				revokes[name]++
			}
		}
	}
}

// crashCheckBoltFile opens the database of a dead process with bbolt alone and
// runs bbolt's consistency check, then checks that the token records, the
// name index and the audit log agree with each other. Token records are
// decoded by the store, on a copy of the file.
func crashCheckBoltFile(t *testing.T, path string, m *crashModel) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dup := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(dup, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := tokenstore.OpenFile(dup, tokenstore.Options{})
	if err != nil {
		t.Fatalf("opening a copy of %s with the store: %v", path, err)
	}
	defer st.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("opening %s after the kill: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		tokens, names, audit := tx.Bucket([]byte("tokens")), tx.Bucket([]byte("token_names")), tx.Bucket([]byte("audit"))
		if tokens == nil || names == nil || audit == nil {
			return errors.New("tokens, token_names or audit bucket missing")
		}
		type record struct {
			Owner, Name string
			Revoked     time.Time
		}
		records := map[string]record{} // by hash
		err := tokens.ForEach(func(k, _ []byte) error {
			var h tokenstore.Hash
			copy(h[:], k)
			ti, err := st.TokenInfoByHash(h)
			if err != nil {
				return fmt.Errorf("token record %x: %v", k, err)
			}
			records[string(k)] = record{Owner: ti.Owner, Name: ti.Name, Revoked: ti.Revoked}
			return nil
		})
		if err != nil {
			return err
		}
		indexed := map[string]bool{}
		err = names.ForEach(func(k, v []byte) error {
			r, ok := records[string(v)]
			switch {
			case !ok:
				t.Errorf("name %q points to no token record", k)
			case !r.Revoked.IsZero():
				t.Errorf("name %q points to a revoked token", k)
			case !bytes.Equal(k, []byte(r.Owner+"\x00"+r.Name)):
				t.Errorf("name %q points to the token %s/%s", k, r.Owner, r.Name)
			}
			indexed[string(v)] = true
			return nil
		})
		if err != nil {
			return err
		}
		created, revoked := map[string]int{}, map[string]int{}
		err = audit.ForEach(func(k, v []byte) error {
			var ev struct{ Action, Target string }
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("audit event %x: %v", k, err)
			}
			switch ev.Action {
			case "token.create":
				created[ev.Target]++
			case "token.revoke":
				revoked[ev.Target]++
			}
			return nil
		})
		if err != nil {
			return err
		}
		for h, r := range records {
			target := r.Owner + "/" + r.Name
			if r.Revoked.IsZero() && !indexed[h] {
				t.Errorf("live token %s has no name entry", target)
			}
			wantRevoked := 0
			if !r.Revoked.IsZero() {
				wantRevoked = 1
			}
			if created[target] != 1 || revoked[target] != wantRevoked {
				t.Errorf("token %s (revoked %v): audit log records %d creations and %d revocations",
					target, !r.Revoked.IsZero(), created[target], revoked[target])
			}
			delete(created, target)
		}
		for target, n := range created {
			t.Errorf("audit log records %d creations of %s, which has no record", n, target)
		}
		// Every acknowledged change is in the file.
		m.mu.Lock()
		defer m.mu.Unlock()
		byName := map[string]record{}
		for _, r := range records {
			if r.Owner == crashOwner {
				byName[r.Name] = r
			}
		}
		for _, tok := range m.tokens {
			r, ok := byName[tok.name]
			switch {
			case tok.pending != "":
				// Settled after the restart.
			case tok.state == stateLive && (!ok || !r.Revoked.IsZero()):
				t.Errorf("acknowledged token %s: in file %v, revoked %v", tok.name, ok, ok && !r.Revoked.IsZero())
			case tok.state == stateRevoked && (!ok || r.Revoked.IsZero()):
				t.Errorf("acknowledged revocation of %s not in the file", tok.name)
			case tok.state == stateAbsent && ok:
				t.Errorf("token %s is in the file but was not created", tok.name)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("reading %s: %v", path, err)
	}
}
