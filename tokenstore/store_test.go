package tokenstore

import (
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestVisibility(t *testing.T) {
	w := newWorld(t)
	s := w.s
	addPackage(t, s, "acme", Conda, "collab-only", false)
	must(t, s.SetCollaborator(testActor, "acme", Conda, "collab-only", "carol", true))
	viewer := func(name string) *Credential {
		if name == "" {
			return nil
		}
		tok, err := s.AuthenticateToken(w.tokens[name])
		must(t, err)
		return tok
	}
	for _, tc := range []struct {
		name       string
		viewer     string
		channel    string
		kind       Kind
		unregPub   bool
		defVisible bool
		except     []string
	}{
		// Private names of one kind are private in the other kind's index too.
		{"anonymous, public channel", "", "acme", Conda, false, true, []string{"acme-private", "acme-tools", "collab-only"}},
		{"anonymous, pypi", "", "acme", PyPI, false, true, []string{"acme-private", "acme-tools", "collab-only"}},
		{"stranger sees what anonymous sees", "dave", "acme", Conda, false, true, []string{"acme-private", "acme-tools", "collab-only"}},
		{"collaborator", "carol", "acme", Conda, false, true, []string{"acme-private", "acme-tools"}},
		{"group member", "bob", "acme", Conda, false, true, []string{"collab-only"}},
		{"group member, pypi", "bob", "acme", PyPI, false, true, []string{"collab-only"}},
		{"token without pypi download scope", "alice-conda-dl", "acme", PyPI, false, true, []string{"acme-private", "acme-tools", "collab-only"}},
		{"owner", "alice", "acme", Conda, false, true, nil},
		{"org token", "acme-org", "acme", Conda, false, true, nil},
		{"site admin", "root", "acme", Conda, false, true, nil},
		{"anonymous, private by default", "", "vault", Conda, false, false, []string{"open"}},
		{"read group on an unregistered name, private by default", "bob", "vault", Conda, false, false, []string{"hidden", "open"}},
		{"owner, private by default", "alice", "vault", Conda, false, true, nil},
		{"unregistered channel, public policy", "", "nochannel", Conda, true, true, nil},
		{"unregistered channel, private policy", "dave", "nochannel", Conda, false, false, nil},
		{"unregistered channel, site admin", "root", "nochannel", Conda, false, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vis, err := s.Visibility(viewer(tc.viewer), tc.channel, tc.kind, tc.unregPub)
			must(t, err)
			got := slices.Sorted(maps.Keys(vis.Except))
			if vis.DefaultVisible != tc.defVisible || !slices.Equal(got, tc.except) {
				t.Fatalf("Visibility = default %v except %v, want %v except %v", vis.DefaultVisible, got, tc.defVisible, tc.except)
			}
			// Every package the index shows, the decision allows.
			for _, pkg := range []string{"acme-private", "collab-only", "acme-tools", "open", "closed", "hidden", "x"} {
				if !vis.Visible(pkg) || tc.viewer == "" && tc.unregPub {
					continue
				}
				req := Request{Secret: w.tokens[tc.viewer], Channel: tc.channel, Kind: tc.kind, Package: pkg, UnregisteredPublic: tc.unregPub}
				if d := s.Authorize(req); d.Outcome != Allow {
					t.Errorf("%s is listed but Authorize says %v %s", pkg, d.Outcome, d.Message)
				}
			}
		})
	}
}

func TestVisibilityKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		a, b  Visibility
		equal bool
	}{
		{"empty maps", Visibility{DefaultVisible: true}, Visibility{DefaultVisible: true, Except: map[string]bool{}}, true},
		{"same names", Visibility{Except: map[string]bool{"a": true, "b": true}}, Visibility{Except: map[string]bool{"b": true, "a": true}}, true},
		{"default differs", Visibility{DefaultVisible: true}, Visibility{}, false},
		{"default differs with names", Visibility{DefaultVisible: true, Except: map[string]bool{"a": true}}, Visibility{Except: map[string]bool{"a": true}}, false},
		{"names differ", Visibility{Except: map[string]bool{"a": true}}, Visibility{Except: map[string]bool{"b": true}}, false},
		{"joined names", Visibility{Except: map[string]bool{"ab": true}}, Visibility{Except: map[string]bool{"a": true, "b": true}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.a.Key() == tc.b.Key()) != tc.equal {
				t.Fatalf("keys %s and %s: equal should be %v", tc.a.Key(), tc.b.Key(), tc.equal)
			}
		})
	}
	if !(Visibility{DefaultVisible: true}).All() || (Visibility{DefaultVisible: true, Except: map[string]bool{"a": true}}).All() {
		t.Fatal("All() wrong")
	}
}

// TestVisibilityFresh checks that a group change shows in the next
// Visibility call.
func TestVisibilityFresh(t *testing.T) {
	w := newWorld(t)
	bob, err := w.s.AuthenticateToken(w.tokens["bob"])
	must(t, err)
	before, err := w.s.Visibility(bob, "acme", Conda, false)
	must(t, err)
	must(t, w.s.SetMember(testActor, "acme", "devs", "bob", false))
	after, err := w.s.Visibility(bob, "acme", Conda, false)
	must(t, err)
	if before.Key() == after.Key() || after.Visible("acme-private") {
		t.Fatalf("before %v, after %v", before, after)
	}
}

// TestAudit checks that every change is logged with its actor and target,
// never with a secret, and that paging returns each event once.
func TestAudit(t *testing.T) {
	clock := newTestClock()
	s, _ := openStore(t, Options{Now: clock.Now})
	addUser(t, s, "alice", false)
	addUser(t, s, "bob", false)
	steps := []struct {
		op             func() error
		action, target string
	}{
		{func() error { _, err := s.CreateOrg(testActor, "acme", "alice"); return err }, "account.create", "acme"},
		{func() error { return s.SetChannelDefault(testActor, "acme", true) }, "channel.default", "acme"},
		{func() error { _, err := s.PutGroup(testActor, "acme", "devs", PermRead); return err }, "group.put", "acme/devs"},
		{func() error { return s.SetMember(testActor, "acme", "devs", "bob", true) }, "group.member.add", "acme/devs"},
		{func() error { return s.SetGroupPackage(testActor, "acme", "devs", "x", true) }, "group.package.add", "acme/devs"},
		{func() error { return s.SetGroupPackage(testActor, "acme", "devs", "x", false) }, "group.package.remove", "acme/devs"},
		{func() error { return s.SetMember(testActor, "acme", "devs", "bob", false) }, "group.member.remove", "acme/devs"},
		{func() error { return s.DeleteGroup(testActor, "acme", "devs") }, "group.delete", "acme/devs"},
		{func() error { _, err := s.PutPackage(testActor, "acme", Conda, "x", true, ""); return err }, "package.put", "acme/x"},
		{func() error { return s.SetCollaborator(testActor, "acme", Conda, "x", "bob", true) }, "package.collaborator.add", "acme/x"},
		{func() error { return s.SetCollaborator(testActor, "acme", Conda, "x", "bob", false) }, "package.collaborator.remove", "acme/x"},
		{func() error { return s.DeletePackage(testActor, "acme", Conda, "x") }, "package.delete", "acme/x"},
		{func() error { _, _, err := s.CreateToken(testActor, TokenSpec{Owner: "bob", Name: "t"}); return err }, "token.create", "bob/t"},
		{func() error { return s.RevokeToken(testActor, "bob", "t") }, "token.revoke", "bob/t"},
		{func() error {
			_, err := s.CreateTokens(testActor, []TokenSpec{{Owner: "bob", Name: "b1"}, {Owner: "alice", Name: "b2"}})
			return err
		}, "token.create.batch", "alice,bob"},
		{func() error {
			return s.ChangePassword(testActor, "alice", testPassword, "another-pass", "another-pass")
		}, "account.password", "alice"},
	}
	start, err := s.Audit(0, 1000)
	must(t, err)
	var secrets []string
	for _, st := range steps {
		must(t, st.op())
		// A refused change writes nothing.
		if err := s.SetMember(testActor, "acme", OwnersGroup, "alice", false); err == nil {
			t.Fatal("removing the last owner succeeded")
		}
	}
	secret, _, err := s.CreateToken(testActor, TokenSpec{Owner: "bob", Name: "t2"})
	must(t, err)
	secrets = append(secrets, secret)

	all, err := s.Audit(0, 1000)
	must(t, err)
	events := all[len(start):]
	if len(events) != len(steps)+1 {
		t.Fatalf("%d events for %d changes", len(events), len(steps)+1)
	}
	for i, st := range steps {
		ev := events[i]
		if ev.Action != st.action || ev.Target != st.target || ev.Actor != testActor.Name ||
			ev.Remote != testActor.Remote || !ev.Time.Equal(clock.Now()) {
			t.Errorf("event %d = %+v, want %s %s by %s", i, ev, st.action, st.target, testActor.Name)
		}
	}
	for _, ev := range all {
		for _, sec := range append(secrets, testPassword, "another-pass") {
			if strings.Contains(ev.Detail+ev.Target+ev.Action, sec) {
				t.Fatalf("event %+v holds a secret", ev)
			}
		}
	}

	// Paging: every event once, in order, whatever the page size.
	for _, size := range []int{1, 3, 7, len(all)} {
		var got []uint64
		for after := uint64(0); ; {
			page, err := s.Audit(after, size)
			must(t, err)
			if len(page) == 0 {
				break
			}
			if len(page) > size {
				t.Fatalf("page of %d events for limit %d", len(page), size)
			}
			for _, ev := range page {
				got = append(got, ev.Seq)
			}
			after = page[len(page)-1].Seq
		}
		if len(got) != len(all) || !slices.IsSorted(got) || got[0] != all[0].Seq {
			t.Fatalf("paging by %d returned %v", size, got)
		}
	}
	for _, tc := range []struct {
		after uint64
		limit int
	}{
		{all[len(all)-1].Seq, 10},
		{math.MaxUint64, 10},
		{0, 0},
		{0, -1},
	} {
		if page, err := s.Audit(tc.after, tc.limit); err != nil || len(page) != 0 {
			t.Fatalf("Audit(%d, %d) = %v, %v; want nothing", tc.after, tc.limit, page, err)
		}
	}
}

// TestLastUsed checks batching: nothing is written before a flush, the
// flush writes the time of use, revoked tokens are skipped, the background
// writer runs every LastUsedInterval and Close flushes.
func TestLastUsed(t *testing.T) {
	clock := newTestClock()
	s, path := openStore(t, Options{Now: clock.Now, LastUsedInterval: time.Hour})
	addUser(t, s, "alice", false)
	used := addToken(t, s, "alice", "used")
	idle := addToken(t, s, "alice", "idle")
	revoked := addToken(t, s, "alice", "revoked")
	req := Request{Channel: "alice", Kind: Conda, Package: "p"}
	for _, sec := range []string{used, revoked} {
		req.Secret = sec
		if d := s.Authorize(req); d.Outcome != Allow {
			t.Fatalf("Authorize: %+v", d)
		}
	}
	must(t, s.RevokeToken(testActor, "alice", "revoked"))
	lastUsed := func(st *Store, secret string) time.Time {
		h, err := ParseToken(secret)
		must(t, err)
		ti, err := st.TokenInfoByHash(h)
		must(t, err)
		return ti.LastUsed
	}
	if !lastUsed(s, used).IsZero() {
		t.Fatal("last-used written before a flush")
	}
	s.FlushLastUsed()
	for _, tc := range []struct {
		secret string
		want   time.Time
	}{
		{used, clock.Now()},
		{idle, time.Time{}},
		{revoked, time.Time{}},
	} {
		if got := lastUsed(s, tc.secret); !got.Equal(tc.want) {
			t.Errorf("last used %v, want %v", got, tc.want)
		}
	}

	// Close flushes what is pending.
	clock.Advance(time.Minute)
	req.Secret = used
	s.Authorize(req)
	must(t, s.Close())
	s2, err := OpenFile(path, Options{Now: clock.Now, LastUsedInterval: 10 * time.Millisecond})
	must(t, err)
	t.Cleanup(func() { s2.Close() })
	if got := lastUsed(s2, used); !got.Equal(clock.Now()) {
		t.Fatalf("after Close, last used %v, want %v", got, clock.Now())
	}

	// The background writer flushes without being asked.
	clock.Advance(time.Minute)
	s2.Authorize(req)
	deadline := time.Now().Add(10 * time.Second)
	for !lastUsed(s2, used).Equal(clock.Now()) {
		if time.Now().After(deadline) {
			t.Fatal("background writer never flushed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCorruptRecord writes bad JSON into the database behind the store's
// back: decisions that need the record fail closed, never allow.
func TestCorruptRecord(t *testing.T) {
	w := newWorld(t)
	tok, err := w.s.LookupToken(w.tokens["bob"])
	must(t, err)
	must(t, w.s.Close())
	corrupt := func(bucket string, key []byte) {
		db, err := bolt.Open(w.path, 0o600, &bolt.Options{Timeout: time.Second})
		must(t, err)
		must(t, db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucket)).Put(key, []byte("{not json")) }))
		must(t, db.Close())
	}
	corrupt(bucketTokens, tok.Hash[:])
	s, err := OpenFile(w.path, Options{})
	must(t, err)
	for _, tc := range []struct {
		name   string
		secret string
		pkg    string
	}{
		{"private package", w.tokens["bob"], "acme-private"},
		{"public package", w.tokens["bob"], "acme-public"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := s.Authorize(Request{Secret: tc.secret, Channel: "acme", Kind: Conda, Package: tc.pkg})
			if d.Outcome != Unavailable || d.Reason != ReasonStoreError || !errors.Is(d.Err, ErrCorrupt) {
				t.Fatalf("Authorize = %+v, want Unavailable with ErrCorrupt", d)
			}
		})
	}
	// Other tokens keep working.
	if d := s.Authorize(Request{Secret: w.tokens["alice"], Channel: "acme", Kind: Conda, Package: "acme-private"}); d.Outcome != Allow {
		t.Fatalf("healthy token: %+v", d)
	}

	// A corrupt access record while the store runs: every decision
	// fails closed.
	must(t, s.be.Update(func(tx Tx) error { return tx.Put(bucketGroups, key("acme", "devs"), []byte("{")) }))
	s.aclGen.Add(1) // what a watch on a shared backend would do
	for _, secret := range []string{"", w.tokens["alice"]} {
		d := s.Authorize(Request{Secret: secret, Channel: "acme", Kind: Conda, Package: "acme-public"})
		if d.Outcome != Unavailable || !errors.Is(d.Err, ErrCorrupt) {
			t.Fatalf("Authorize with a corrupt group = %+v", d)
		}
	}
	if _, err := s.Visibility(nil, "acme", Conda, false); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Visibility with a corrupt group: %v", err)
	}
	must(t, s.Close())

	// A corrupt access record at startup: the store does not open.
	if _, err := OpenFile(w.path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("OpenFile with a corrupt group: %v", err)
	}
}
