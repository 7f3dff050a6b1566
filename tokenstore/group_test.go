package tokenstore

import (
	"slices"
	"testing"
)

func TestOrgOwnersGroup(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	addUser(t, s, "bob", false)
	addOrg(t, s, "acme", "alice")

	g, err := s.Group("acme", OwnersGroup)
	must(t, err)
	if g.Perm != PermAdmin || !g.AllPackages || !slices.Equal(g.Members, []string{"alice"}) {
		t.Fatalf("owners group = %+v", g)
	}

	for _, tc := range []struct {
		name string
		op   func() error
		kind error
		sub  string
	}{
		{"delete owners", func() error { return s.DeleteGroup(testActor, "acme", OwnersGroup) }, ErrForbidden, "cannot be removed"},
		{"owners not admin", func() error { _, err := s.PutGroup(testActor, "acme", OwnersGroup, PermRead); return err }, ErrForbidden, "always admin"},
		{"remove last owner", func() error { return s.SetMember(testActor, "acme", OwnersGroup, "alice", false) }, ErrForbidden, "last member"},
		{"owners all packages", func() error { return s.SetGroupPackage(testActor, "acme", OwnersGroup, "x", true) }, ErrForbidden, "covers all packages"},
		{"add second owner", func() error { return s.SetMember(testActor, "acme", OwnersGroup, "bob", true) }, nil, ""},
		{"add twice is idempotent", func() error { return s.SetMember(testActor, "acme", OwnersGroup, "bob", true) }, nil, ""},
		{"first owner may leave now", func() error { return s.SetMember(testActor, "acme", OwnersGroup, "alice", false) }, nil, ""},
		{"remove non-member", func() error { return s.SetMember(testActor, "acme", OwnersGroup, "alice", false) }, ErrNotFound, "not a member"},
		{"last owner again", func() error { return s.SetMember(testActor, "acme", OwnersGroup, "bob", false) }, ErrForbidden, "last member"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.op(), tc.kind, tc.sub) })
	}
	g, err = s.Group("acme", OwnersGroup)
	must(t, err)
	if !slices.Equal(g.Members, []string{"bob"}) {
		t.Fatalf("owners members = %v, want [bob]", g.Members)
	}
}

func TestGroups(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	addUser(t, s, "bob", false)
	addOrg(t, s, "acme", "alice")
	addOrg(t, s, "other", "alice")

	for _, tc := range []struct {
		name string
		op   func() error
		kind error
		sub  string
	}{
		{"create", func() error { _, err := s.PutGroup(testActor, "acme", "devs", PermRead); return err }, nil, ""},
		{"change perm", func() error { _, err := s.PutGroup(testActor, "acme", "devs", PermWrite); return err }, nil, ""},
		{"group named admin", func() error { _, err := s.PutGroup(testActor, "acme", "admin", PermAdmin); return err }, nil, ""},
		{"bad group name", func() error { _, err := s.PutGroup(testActor, "acme", "Dev Team", PermRead); return err }, ErrInvalid, "group name"},
		{"bad perm", func() error { _, err := s.PutGroup(testActor, "acme", "devs", PermNone); return err }, ErrInvalid, "permission"},
		{"group in user", func() error { _, err := s.PutGroup(testActor, "alice", "devs", PermRead); return err }, ErrInvalid, "not an organization"},
		{"group in nothing", func() error { _, err := s.PutGroup(testActor, "ghost", "devs", PermRead); return err }, ErrNotFound, "ghost"},
		{"member user", func() error { return s.SetMember(testActor, "acme", "devs", "bob", true) }, nil, ""},
		{"member org", func() error { return s.SetMember(testActor, "acme", "devs", "other", true) }, ErrInvalid, "only users"},
		{"member unknown", func() error { return s.SetMember(testActor, "acme", "devs", "ghost", true) }, ErrNotFound, "ghost"},
		{"member of missing group", func() error { return s.SetMember(testActor, "acme", "nope", "bob", true) }, ErrNotFound, "acme/nope"},
		{"package add", func() error { return s.SetGroupPackage(testActor, "acme", "devs", "Acme_Tools", true) }, nil, ""},
		{"package bad name", func() error { return s.SetGroupPackage(testActor, "acme", "devs", "a/b", true) }, ErrInvalid, "package name"},
		{"package remove missing", func() error { return s.SetGroupPackage(testActor, "acme", "devs", "zzz", false) }, ErrNotFound, "not in acme/devs"},
		{"delete missing", func() error { return s.DeleteGroup(testActor, "acme", "nope") }, ErrNotFound, "acme/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.op(), tc.kind, tc.sub) })
	}

	g, err := s.Group("acme", "devs")
	must(t, err)
	if g.Perm != PermWrite || !slices.Equal(g.Members, []string{"bob"}) || !slices.Equal(g.Packages, []string{"Acme_Tools"}) {
		t.Fatalf("devs = %+v", g)
	}
	for _, tc := range []struct {
		kind Kind
		name string
		want bool
	}{
		{PyPI, "acme-tools", true},
		{Conda, "acme_tools", true},
		{Conda, "acme-tools", false},
		{PyPI, "acme", false},
	} {
		if got := g.Covers(tc.kind, tc.name); got != tc.want {
			t.Errorf("Covers(%s, %q) = %v, want %v", tc.kind, tc.name, got, tc.want)
		}
	}

	groups, err := s.Groups("acme")
	must(t, err)
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, []string{"admin", "devs", OwnersGroup}) {
		t.Fatalf("Groups = %v", names)
	}
	must(t, s.SetGroupPackage(testActor, "acme", "devs", "Acme_Tools", false))
	must(t, s.DeleteGroup(testActor, "acme", "devs"))
	_, err = s.Group("acme", "devs")
	wantErr(t, err, ErrNotFound, "acme/devs")
}

func TestParsePerm(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Perm
		ok   bool
	}{
		{"read", PermRead, true},
		{"write", PermWrite, true},
		{"read-write", PermWrite, true},
		{"admin", PermAdmin, true},
		{"none", PermNone, false},
		{"Read", PermNone, false},
	} {
		got, err := ParsePerm(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParsePerm(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct {
		kind     Kind
		in, want string
	}{
		{Conda, "Acme_Tools", "acme_tools"},
		{Conda, "numpy", "numpy"},
		{PyPI, "Acme_Tools", "acme-tools"},
		{PyPI, "acme.tools", "acme-tools"},
		{PyPI, "Acme__-.Tools", "acme-tools"},
		{PyPI, "zope.interface", "zope-interface"},
		{PyPI, "_private", "private"},
		{PyPI, "trailing_", "trailing"},
		{PyPI, "A", "a"},
	} {
		if got := NormalizeName(tc.kind, tc.in); got != tc.want {
			t.Errorf("NormalizeName(%s, %q) = %q, want %q", tc.kind, tc.in, got, tc.want)
		}
	}
}

func TestValidatePackageName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"numpy", true}, {"_libgcc_mutex", true}, {"Acme.Tools-2", true}, {"9lives", true},
		{"", false}, {"-x", false}, {".x", false}, {"a/b", false}, {"a b", false}, {"é", false},
		{string(make([]byte, 129)), false},
	} {
		if err := ValidatePackageName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidatePackageName(%q) = %v", tc.name, err)
		}
	}
}

func TestPackages(t *testing.T) {
	s, _ := openStore(t, Options{})
	addUser(t, s, "alice", false)
	addUser(t, s, "carol", false)
	addOrg(t, s, "acme", "alice")

	p, err := s.PutPackage(testActor, "alice", PyPI, "Acme_Tools", false, "tools")
	must(t, err)
	if p.Name != "acme-tools" || p.Kind != PyPI || p.Public || p.Summary != "tools" {
		t.Fatalf("PutPackage = %+v", p)
	}
	// The same name of another kind is another package.
	addPackage(t, s, "alice", Conda, "Acme_Tools", true)

	for _, tc := range []struct {
		name string
		op   func() error
		kind error
		sub  string
	}{
		{"change access through other spelling", func() error {
			_, err := s.PutPackage(testActor, "alice", PyPI, "acme.tools", true, "")
			return err
		}, nil, ""},
		{"bad name", func() error { _, err := s.PutPackage(testActor, "alice", Conda, "a b", true, ""); return err }, ErrInvalid, "package name"},
		{"bad kind", func() error { _, err := s.PutPackage(testActor, "alice", "npm", "x", true, ""); return err }, ErrInvalid, "conda or pypi"},
		{"no channel", func() error { _, err := s.PutPackage(testActor, "ghost", Conda, "x", true, ""); return err }, ErrNotFound, "ghost"},
		{"collaborator", func() error { return s.SetCollaborator(testActor, "alice", PyPI, "ACME_tools", "carol", true) }, nil, ""},
		{"collaborator twice", func() error { return s.SetCollaborator(testActor, "alice", PyPI, "acme-tools", "carol", true) }, nil, ""},
		{"collaborator org", func() error { return s.SetCollaborator(testActor, "alice", PyPI, "acme-tools", "acme", true) }, ErrInvalid, "collaborators are users"},
		{"collaborator unknown", func() error { return s.SetCollaborator(testActor, "alice", PyPI, "acme-tools", "ghost", true) }, ErrNotFound, "ghost"},
		{"collaborator on missing package", func() error { return s.SetCollaborator(testActor, "alice", PyPI, "nope", "carol", true) }, ErrNotFound, "nope"},
		{"remove non-collaborator", func() error { return s.SetCollaborator(testActor, "alice", Conda, "acme_tools", "carol", false) }, ErrNotFound, "not a collaborator"},
		{"delete missing", func() error { return s.DeletePackage(testActor, "alice", Conda, "nope") }, ErrNotFound, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.op(), tc.kind, tc.sub) })
	}

	p, err = s.Package("alice", PyPI, "ACME.TOOLS")
	must(t, err)
	if !p.Public || p.Summary != "" || !slices.Equal(p.Collaborators, []string{"carol"}) {
		t.Fatalf("package after edits = %+v", p)
	}
	pkgs, err := s.Packages("alice")
	must(t, err)
	if len(pkgs) != 2 {
		t.Fatalf("Packages = %v", pkgs)
	}
	must(t, s.SetCollaborator(testActor, "alice", PyPI, "acme-tools", "carol", false))
	must(t, s.DeletePackage(testActor, "alice", PyPI, "Acme_Tools"))
	_, err = s.Package("alice", PyPI, "acme-tools")
	wantErr(t, err, ErrNotFound, "acme-tools")
}
