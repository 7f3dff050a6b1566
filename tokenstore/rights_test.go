package tokenstore

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// decide is one Authorize call of the rights tests and what it must give.
type decide struct {
	name    string
	secret  string
	channel string
	pkg     string
	write   bool
	want    Outcome
}

func (d decide) check(t *testing.T, s *Store) {
	t.Helper()
	got := s.Authorize(Request{Secret: d.secret, Channel: d.channel, Kind: Conda, Package: d.pkg, Write: d.write})
	if got.Outcome != d.want {
		t.Errorf("%s: Authorize = %v %s %q, want %v", d.name, got.Outcome, got.Reason, got.Message, d.want)
	}
}

// TestOrgAdminOfListedPackages proves finding 5 of issue 9 closed: an
// admin group that lists some packages administers those packages, not
// the organization (its channel as a whole, its tokens).
func TestOrgAdminOfListedPackages(t *testing.T) {
	w := newWorld(t)
	s := w.s
	addGroup(t, s, "acme", "pkgadmins", PermAdmin, []string{"carol"}, []string{"acme-public"})
	carol := w.tokens["carol"]
	for _, d := range []decide{
		{"writes a listed package", carol, "acme", "acme-public", true, Allow},
		{"writes a package outside the list", carol, "acme", "acme-private", true, Forbidden},
		{"writes the channel as a whole (twine's index root)", carol, "acme", "", true, Forbidden},
		{"an owner writes the channel as a whole", w.tokens["alice"], "acme", "", true, Allow},
	} {
		d.check(t, s)
	}
	for _, tc := range []struct {
		pkg  string
		want Perm
	}{{"acme-public", PermAdmin}, {"acme-private", PermNone}, {"", PermRead}} {
		if got, err := s.Perm("carol", "acme", Conda, tc.pkg); err != nil || got != tc.want {
			t.Errorf("Perm(carol, acme, %q) = %s, %v; want %s", tc.pkg, got, err, tc.want)
		}
	}
	_, _, err := s.CreateToken(testActor, TokenSpec{Owner: "acme", CreatedBy: "carol", Name: "carol-ci"})
	wantErr(t, err, ErrForbidden, "only owners of acme")
}

// TestOrgTokenBoundByCreator proves finding 6 of issue 9 closed: an
// organization's token acts with at most its creator's current rights in
// the organization, in decisions and in index views, and with none once
// the creator has left.
func TestOrgTokenBoundByCreator(t *testing.T) {
	w := newWorld(t)
	s := w.s
	must(t, s.SetMember(testActor, "acme", OwnersGroup, "bob", true))
	secret, _, err := s.CreateToken(testActor, TokenSpec{Owner: "acme", CreatedBy: "bob", Name: "bob-ci", Scopes: []string{"conda"}})
	must(t, err)
	opSecret, _, err := s.CreateToken(testActor, TokenSpec{Owner: "acme", Name: "operator-ci", Scopes: []string{"conda"}})
	must(t, err)
	cred, err := s.AuthenticateToken(secret)
	must(t, err)
	visible := func() bool {
		vis, err := s.Visibility(cred, "acme", Conda, false)
		must(t, err)
		return vis.Visible("acme-private")
	}

	for _, step := range []struct {
		name    string
		change  func() error
		decides []decide
		visible bool
	}{
		{"bob is an owner", func() error { return nil }, []decide{
			{"reads private", secret, "acme", "acme-private", false, Allow},
			{"writes public", secret, "acme", "acme-public", true, Allow},
			{"writes the channel", secret, "acme", "", true, Allow},
		}, true},
		{"bob left owners, still in devs", func() error { return s.SetMember(testActor, "acme", OwnersGroup, "bob", false) }, []decide{
			{"reads what devs may", secret, "acme", "acme-private", false, Allow},
			{"writes what devs may", secret, "acme", "acme-private", true, Allow},
			{"writes outside devs", secret, "acme", "acme-public", true, Forbidden},
			{"writes the channel", secret, "acme", "", true, Forbidden},
		}, true},
		{"bob left every group", func() error { return s.SetMember(testActor, "acme", "devs", "bob", false) }, []decide{
			{"reads private", secret, "acme", "acme-private", false, Forbidden},
			{"still reads public", secret, "acme", "acme-public", false, Allow},
			{"operator's org token is bound by nobody", opSecret, "acme", "acme-private", true, Allow},
		}, false},
	} {
		t.Run(step.name, func(t *testing.T) {
			must(t, step.change())
			for _, d := range step.decides {
				d.check(t, s)
			}
			if got := visible(); got != step.visible {
				t.Errorf("acme-private visible in the token's index view: %v, want %v", got, step.visible)
			}
		})
	}
	if got, err := s.TokenPerm(cred, "acme", Conda, ""); err != nil || got != PermNone {
		t.Errorf("TokenPerm after bob left = %s, %v; want none", got, err)
	}
}

// TestVisibilityIntersect checks the index view of a bound token against
// the names visible to both accounts.
func TestVisibilityIntersect(t *testing.T) {
	set := func(def bool, names ...string) Visibility {
		v := Visibility{DefaultVisible: def}
		for _, n := range names {
			v.addException(n)
		}
		return v
	}
	names := []string{"a", "b", "c", "d"}
	for _, tc := range []struct{ x, y Visibility }{
		{set(true), set(true)},
		{set(true, "a"), set(true, "b")},
		{set(false, "a", "b"), set(true, "b", "c")},
		{set(false, "a"), set(false, "a", "d")},
		{set(true), set(false)},
	} {
		got := tc.x.intersect(tc.y)
		for _, n := range append(names, "unlisted") {
			if want := tc.x.Visible(n) && tc.y.Visible(n); got.Visible(n) != want {
				t.Errorf("%+v ∩ %+v: Visible(%q) = %v, want %v", tc.x, tc.y, n, got.Visible(n), want)
			}
		}
	}
}

// TestTokenFromToken proves finding 7 of issue 9 closed: a token created
// with a token expires no later than it, never gets a scope it lacks, is
// revoked with it (and so are its own children), and an organization
// token created with an organization token keeps the bound of the first
// one's creator.
func TestTokenFromToken(t *testing.T) {
	w := newWorld(t)
	s := w.s
	short, _, err := s.CreateToken(testActor, TokenSpec{Owner: "alice", CreatedBy: "alice", Name: "short", Scopes: []string{"api"}, MaxAge: 2 * time.Minute})
	must(t, err)
	parent, err := s.AuthenticateToken(short)
	must(t, err)
	for _, tc := range []struct {
		name   string
		spec   TokenSpec
		expiry time.Time // zero: a year from now
		kind   error
	}{
		{"a year asked", TokenSpec{Owner: "alice", Name: "year", Scopes: []string{"api"}, MaxAge: DefaultMaxTokenAge}, parent.Expires, nil},
		{"the default asked", TokenSpec{Owner: "alice", Name: "default", Scopes: []string{"api:read"}}, parent.Expires, nil},
		{"shorter than the parent", TokenSpec{Owner: "alice", Name: "minute", Scopes: []string{"api"}, MaxAge: time.Minute}, w.clock.Now().Add(time.Minute), nil},
		{"a scope the parent lacks", TokenSpec{Owner: "alice", Name: "wider", Scopes: []string{"conda:download"}}, time.Time{}, ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.CreatedBy, tc.spec.Parent = "alice", parent
			_, tok, err := s.CreateToken(testActor, tc.spec)
			wantErr(t, err, tc.kind, "")
			if err == nil && !tok.Expires.Equal(tc.expiry) {
				t.Fatalf("expires %v, want %v (the parent expires %v)", tok.Expires, tc.expiry, parent.Expires)
			}
		})
	}

	// Revoking the parent revokes what it made, down the line, each
	// audited; alice's other tokens live on.
	mid, err := s.AuthenticateToken(childToken(t, s, parent, "mid"))
	must(t, err)
	grandchild := childToken(t, s, mid, "grandchild")
	before, err := s.Audit(0, 1000)
	must(t, err)
	must(t, s.RevokeHash(testActor, parent.Hash))
	for _, name := range []string{"year", "default", "minute", "mid", "grandchild"} {
		wantErr(t, s.RevokeToken(testActor, "alice", name), ErrNotFound, "no token named")
	}
	if _, err := s.AuthenticateToken(grandchild); err == nil || err.Error() != "token revoked" {
		t.Errorf("grandchild: %v, want token revoked", err)
	}
	if _, err := s.AuthenticateToken(w.tokens["alice"]); err != nil {
		t.Errorf("alice's token made with her password: %v", err)
	}
	events, err := s.Audit(before[len(before)-1].Seq, 1000)
	must(t, err)
	if len(events) != 6 {
		t.Errorf("%d audit events for revoking short, want 6 (itself and 5 descendants): %+v", len(events), events)
	}

	// bob, an owner, makes an org token; with it an org token is made:
	// bob's rights bound both.
	must(t, s.SetMember(testActor, "acme", OwnersGroup, "bob", true))
	first, _, err := s.CreateToken(testActor, TokenSpec{Owner: "acme", CreatedBy: "bob", Name: "first", Scopes: []string{"all"}})
	must(t, err)
	orgParent, err := s.AuthenticateToken(first)
	must(t, err)
	_, child, err := s.CreateToken(testActor, TokenSpec{Owner: "acme", CreatedBy: "acme", Name: "second", Parent: orgParent})
	must(t, err)
	if child.CreatedBy != "bob" {
		t.Fatalf("the org token made with bob's org token is bound by %q, want bob", child.CreatedBy)
	}
}

// childToken creates an api token of the parent's owner with the parent
// and returns its secret.
func childToken(t *testing.T, s *Store, parent *Credential, name string) string {
	t.Helper()
	secret, _, err := s.CreateToken(testActor, TokenSpec{Owner: parent.Owner, CreatedBy: parent.Owner, Name: name,
		Scopes: []string{"api"}, Parent: parent})
	must(t, err)
	return secret
}

// TestTokensPerAccount proves the token half of finding 11 of issue 9
// closed: an account holds at most MaxTokensPerAccount live tokens, in
// single and batch creation; revoking or replacing frees a place.
func TestTokensPerAccount(t *testing.T) {
	s, _ := openStore(t, Options{MaxTokensPerAccount: 3})
	addUser(t, s, "alice", false)
	addUser(t, s, "bob", false)
	spec := func(owner string, i int) TokenSpec {
		return TokenSpec{Owner: owner, CreatedBy: owner, Name: fmt.Sprintf("t%d", i)}
	}
	for _, tc := range []struct {
		name string
		do   func() error
		kind error
	}{
		{"three in a batch", func() error {
			_, err := s.CreateTokens(testActor, []TokenSpec{spec("alice", 1), spec("alice", 2), spec("alice", 3)})
			return err
		}, nil},
		{"a fourth", func() error { _, _, err := s.CreateToken(testActor, spec("alice", 4)); return err }, ErrForbidden},
		{"replacing one", func() error {
			sp := spec("alice", 3)
			sp.Replace = true
			_, _, err := s.CreateToken(testActor, sp)
			return err
		}, nil},
		{"another account", func() error { _, _, err := s.CreateToken(testActor, spec("bob", 1)); return err }, nil},
		{"a batch crossing the cap", func() error {
			_, err := s.CreateTokens(testActor, []TokenSpec{spec("bob", 2), spec("bob", 3), spec("bob", 4)})
			return err
		}, ErrForbidden},
		{"after a revocation", func() error {
			if err := s.RevokeToken(testActor, "alice", "t1"); err != nil {
				return err
			}
			_, _, err := s.CreateToken(testActor, spec("alice", 5))
			return err
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			wantErr(t, err, tc.kind, "")
			if err != nil && !strings.Contains(err.Error(), "3 tokens, the most an account may have") {
				t.Fatalf("error %q does not name the limit", err)
			}
		})
	}
	if n := s.TokenCount(); n != 4 {
		t.Fatalf("%d live tokens, want 4", n)
	}
}

// TestStoredTextLimits proves the field half of finding 11 of issue 9
// closed: every stored text field and list is bounded, and a refusal
// names the field and its limit.
func TestStoredTextLimits(t *testing.T) {
	w := newWorld(t)
	s := w.s
	long := strings.Repeat("x", MaxTextLen+1)
	// Lists already at their limit, written in one transaction (names
	// need not be accounts for the count).
	full := make([]string, MaxListLen)
	for i := range full {
		full[i] = fmt.Sprintf("n%d", i)
	}
	must(t, s.write(testActor, func(w *writeTx) error {
		g := &Group{Org: "acme", Name: "full", Perm: PermRead, Members: full, Packages: full}
		if err := putJSON(w, bucketGroups, key("acme", "full"), g); err != nil {
			return err
		}
		p, err := getPackage(w, "alice", Conda, "priv")
		if err != nil {
			return err
		}
		p.Collaborators = full
		if err := putJSON(w, bucketPackages, packageKey("alice", Conda, "priv"), p); err != nil {
			return err
		}
		// dave's channel registers as many packages as it may, and
		// vault holds as many groups as it may.
		for i := range MaxPackagesPerChannel {
			n := fmt.Sprintf("p%d", i)
			if err := putJSON(w, bucketPackages, packageKey("dave", Conda, n), &Package{Channel: "dave", Name: n, Kind: Conda}); err != nil {
				return err
			}
		}
		for i := range MaxGroupsPerOrg - 1 { // vault has auditors
			n := fmt.Sprintf("g%d", i)
			if err := putJSON(w, bucketGroups, key("vault", n), &Group{Org: "vault", Name: n, Perm: PermRead}); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, tc := range []struct {
		name, msg string
		do        func() error
	}{
		{"email", "email may be at most 254 bytes", func() error {
			_, err := s.CreateUser(testActor, NewUser{Name: "eve", Email: strings.Repeat("e", 250) + "@example.org",
				Password: "a password", PasswordConfirmation: "a password", AcceptTerms: true})
			return err
		}},
		{"summary on create", "summary may be at most 400 bytes", func() error {
			_, err := s.PutPackage(testActor, "alice", Conda, "new", true, long)
			return err
		}},
		{"summary on update", "summary may be at most 400 bytes", func() error {
			_, err := s.UpdatePackages(testActor, "alice", []Kind{Conda}, "pub", nil, &long)
			return err
		}},
		{"hostname", "hostname may be at most 400 bytes", func() error {
			_, _, err := s.CreateToken(testActor, TokenSpec{Owner: "dave", Name: "h", Hostname: long})
			return err
		}},
		{"group packages", "the packages of acme/full may hold at most 1000 entries", func() error {
			return s.SetGroupPackage(testActor, "acme", "full", "one-more", true)
		}},
		{"group members", "the members of acme/full may hold at most 1000 entries", func() error {
			return s.SetMember(testActor, "acme", "full", "dave", true)
		}},
		{"collaborators", "the collaborators of alice/priv may hold at most 1000 entries", func() error {
			return s.SetCollaborator(testActor, "alice", Conda, "priv", "dave", true)
		}},
		{"packages of a channel", "the packages of dave may hold at most 10000 entries", func() error {
			_, err := s.PutPackage(testActor, "dave", PyPI, "one-more", false, "")
			return err
		}},
		{"groups of an organization", "the groups of vault may hold at most 1000 entries", func() error {
			_, err := s.PutGroup(testActor, "vault", "one-more", PermRead)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.do(), ErrInvalid, tc.msg)
		})
	}
}
