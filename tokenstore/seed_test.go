package tokenstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseSeed: the shipped example and good files parse; every bad
// entry is refused with a reason naming the file and the entry.
func TestParseSeed(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "example", "seed.json"))
	must(t, err)
	for _, tc := range []struct {
		name, data, errSub string
	}{
		{"example", string(example), ""},
		{"empty", `{}`, ""},
		{"not json", `{`, "seed f.json: invalid"},
		{"trailing data", `{} {}`, "data after"},
		{"users refused", `{"users":[{"name":"alice"}]}`, `unknown field "users"`},
		{"token refused", `{"organizations":[{"name":"acme","token":"x"}]}`, `unknown field "token"`},
		{"bad org name", `{"organizations":[{"name":"Acme"}]}`, "organizations[0]: account name"},
		{"reserved org name", `{"organizations":[{"name":"api"}]}`, "organizations[0]: "},
		{"org twice", `{"organizations":[{"name":"acme"},{"name":"acme"}]}`, `organizations[1]: "acme" listed twice`},
		{"bad package name", `{"organizations":[{"name":"acme","packages":[{"name":"","kinds":["conda"],"visibility":"public"}]}]}`,
			"organizations[0] (acme).packages[0]: package name"},
		{"unknown kind", `{"organizations":[{"name":"acme","packages":[{"name":"x","kinds":["npm"],"visibility":"public"}]}]}`,
			"organizations[0] (acme).packages[0]: "},
		{"no kinds", `{"organizations":[{"name":"acme","packages":[{"name":"x","visibility":"public"}]}]}`,
			"packages[0]: no kinds given"},
		{"bad visibility", `{"organizations":[{"name":"acme","packages":[{"name":"x","kinds":["pypi"],"visibility":"secret"}]}]}`,
			`visibility must be public or private, not "secret"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSeed("f.json", []byte(tc.data))
			if tc.errSub == "" {
				wantErr(t, err, nil, "")
				return
			}
			wantErr(t, err, ErrInvalid, tc.errSub)
			wantErr(t, err, ErrInvalid, "seed f.json: ")
		})
	}
}

// TestApplySeed: an empty store gets the seed's organizations (owners
// group empty) and packages, audited under the operator; a store with an
// account, a seeded one included, is left untouched; an actor who is
// not a site administrator cannot seed.
func TestApplySeed(t *testing.T) {
	sd, err := ParseSeed("seed.json", []byte(`{"organizations":[{"name":"demo","packages":[
		{"name":"demo-tool","kinds":["conda"],"visibility":"public"},
		{"name":"demo-lib","kinds":["conda","pypi"],"visibility":"private"}]}]}`))
	must(t, err)
	operator := Actor{Name: "operator", SiteAdmin: true}
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, s *Store)
		actor   Actor
		seeded  bool
		errSub  string
	}{
		{name: "empty store", actor: operator, seeded: true},
		{name: "store with a user", prepare: func(t *testing.T, s *Store) { addUser(t, s, "alice", false) }, actor: operator},
		{name: "seeded before", prepare: func(t *testing.T, s *Store) {
			_, err := s.ApplySeed(operator, sd)
			must(t, err)
			addUser(t, s, "alice", false)
			must(t, s.SetMember(operator, "demo", OwnersGroup, "alice", true))
		}, actor: operator},
		{name: "not a site administrator", actor: Actor{Name: "operator"}, errSub: "seed organization demo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openStore(t, Options{})
			if tc.prepare != nil {
				tc.prepare(t, s)
			}
			before, err := s.Audit(0, 1000)
			must(t, err)
			seeded, err := s.ApplySeed(tc.actor, sd)
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("ApplySeed: %v, want an error with %q", err, tc.errSub)
				}
				return
			}
			must(t, err)
			after, err := s.Audit(0, 1000)
			must(t, err)
			if seeded != tc.seeded {
				t.Fatalf("seeded = %v, want %v", seeded, tc.seeded)
			}
			if !tc.seeded {
				if len(after) != len(before) {
					t.Fatalf("untouched store got audit events %v", after[len(before):])
				}
				return
			}
			g, err := s.Group("demo", OwnersGroup)
			must(t, err)
			if len(g.Members) != 0 {
				t.Errorf("seeded owners = %v, want none", g.Members)
			}
			for _, want := range []struct {
				kind   Kind
				name   string
				public bool
			}{{Conda, "demo-tool", true}, {Conda, "demo-lib", false}, {PyPI, "demo-lib", false}} {
				p, err := s.Package("demo", want.kind, want.name)
				must(t, err)
				if p.Public != want.public {
					t.Errorf("%s %s public = %v, want %v", want.kind, want.name, p.Public, want.public)
				}
			}
			for _, ev := range after {
				if ev.Actor != "operator" {
					t.Errorf("audit event %+v not by the operator", ev)
				}
			}
			if len(after) < 3 {
				t.Errorf("audit has %d events, want the org and its packages", len(after))
			}
		})
	}
}
