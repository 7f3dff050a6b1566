package tokenstore

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// aclView is an immutable in-memory copy of everything an access decision
// reads except tokens: accounts, groups and registered packages. Decisions
// read it without locks; any committed change to those buckets advances
// Store.aclGen and the next decision rebuilds it, so no change is ever
// served stale.
type aclView struct {
	gen      uint64
	accounts map[string]*Account
	packages map[pkgRef]*Package
	// byChannel lists registered packages per channel and kind, for
	// index visibility.
	byChannel map[chanKind][]*Package
	// memberOf lists the groups a user belongs to in an organization.
	memberOf map[orgUser][]*groupView
	// hasPublic counts public registered packages per channel and kind.
	hasPublic map[chanKind]bool
	// spelled holds each private registration under its channel, its kind
	// and its name as PyPI normalizes it (case, and runs of '-', '_', '.' alike),
	// so that a name registered with one kind is found from another kind
	// whatever separators that kind's files use (see registration).
	spelled map[pkgRef]*Package
}

type pkgRef struct {
	channel string
	kind    Kind
	name    string
}

type chanKind struct {
	channel string
	kind    Kind
}

type orgUser struct{ org, user string }

// groupView is a group with its package names normalized once per kind,
// so decisions and index views do not normalize them per package checked.
type groupView struct {
	*Group
	// names holds, per kind, the group's package names normalized for
	// that kind (empty for groups over all packages).
	names map[Kind]map[string]bool
}

func newGroupView(g *Group) *groupView {
	gv := &groupView{Group: g, names: map[Kind]map[string]bool{}}
	if g.AllPackages {
		return gv
	}
	for _, k := range allKinds {
		set := make(map[string]bool, len(g.Packages))
		for _, p := range g.Packages {
			set[NormalizeName(k, p)] = true
		}
		gv.names[k] = set
	}
	return gv
}

// covers is Group.Covers on the precomputed names.
func (g *groupView) covers(kind Kind, name string) bool {
	if g.AllPackages {
		return true
	}
	set, ok := g.names[kind]
	if !ok {
		// A kind this view did not precompute: fall back to the group.
		return g.Group.Covers(kind, name)
	}
	return set[name]
}

// view returns the current access view, rebuilding it if a change was
// committed since it was built, or ErrStale while the feed is not known
// current.
func (s *Store) view() (*aclView, error) {
	// The view is derived from earlier reads: trusted only while the
	// backend's feed is current.
	if err := s.be.Fresh(); err != nil {
		return nil, err
	}
	if v := s.acl.Load(); v != nil && v.gen == s.aclGen.Load() {
		return v, nil
	}
	s.aclMu.Lock()
	defer s.aclMu.Unlock()
	// The generation is read before the backend transaction begins: a
	// change committed during the build leaves the view behind, and the
	// next call builds again.
	gen := s.aclGen.Load()
	if v := s.acl.Load(); v != nil && v.gen == gen {
		return v, nil
	}
	v, err := buildView(s.be, gen)
	if err != nil {
		return nil, err
	}
	s.acl.Store(v)
	return v, nil
}

func buildView(be Backend, gen uint64) (*aclView, error) {
	v := &aclView{gen: gen, accounts: map[string]*Account{}, packages: map[pkgRef]*Package{},
		byChannel: map[chanKind][]*Package{}, memberOf: map[orgUser][]*groupView{}, hasPublic: map[chanKind]bool{},
		spelled: map[pkgRef]*Package{}}
	err := be.View(func(tx Tx) error {
		err := tx.ForEach(bucketAccounts, nil, func(k, raw []byte) error {
			var a Account
			if err := json.Unmarshal(raw, &a); err != nil {
				return fmt.Errorf("account %q: %w", k, ErrCorrupt)
			}
			v.accounts[a.Name] = &a
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.ForEach(bucketGroups, nil, func(k, raw []byte) error {
			var g Group
			if err := json.Unmarshal(raw, &g); err != nil {
				return fmt.Errorf("group %q: %w", k, ErrCorrupt)
			}
			gv := newGroupView(&g)
			for _, m := range g.Members {
				ou := orgUser{g.Org, m}
				v.memberOf[ou] = append(v.memberOf[ou], gv)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.ForEach(bucketPackages, nil, func(k, raw []byte) error {
			var p Package
			if err := json.Unmarshal(raw, &p); err != nil {
				return fmt.Errorf("package %q: %w", k, ErrCorrupt)
			}
			v.add(&p)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	v.addOtherKinds()
	return v, nil
}

// add puts a registration in the view.
func (v *aclView) add(p *Package) {
	v.packages[pkgRef{p.Channel, p.Kind, p.Name}] = p
	ck := chanKind{p.Channel, p.Kind}
	v.byChannel[ck] = append(v.byChannel[ck], p)
	if p.Public {
		v.hasPublic[ck] = true
	}
}

// addOtherKinds makes a name registered private with one kind private
// for its other kinds too: private means private for every kind of that
// name in the channel. Each private registration is copied to the kinds
// its name is not registered with, collaborators included, so decisions
// and index views treat it as registered there. A kind's own
// registration always governs that kind, and a public registration
// opens only its own kind (in a channel private by default, a public
// conda package does not make its PyPI pages public).
func (v *aclView) addOtherKinds() {
	type otherKind struct {
		ref pkgRef
		reg *Package
	}
	var derived []otherKind
	for _, p := range v.packages {
		if p.Public {
			continue
		}
		v.spelled[pkgRef{p.Channel, p.Kind, NormalizeName(PyPI, p.Name)}] = p
		for _, k := range allKinds {
			if k != p.Kind {
				derived = append(derived, otherKind{pkgRef{p.Channel, k, NormalizeName(k, p.Name)}, p})
			}
		}
	}
	for _, d := range derived {
		if v.packages[d.ref] != nil {
			continue
		}
		// Decisions find the registration itself (its kind and name say
		// which group entries cover it); index views list the name as
		// the other kind spells it.
		v.packages[d.ref] = d.reg
		listed := *d.reg
		listed.Kind, listed.Name = d.ref.kind, d.ref.name
		ck := chanKind{d.ref.channel, d.ref.kind}
		v.byChannel[ck] = append(v.byChannel[ck], &listed)
	}
}

// otherKindPerm is what a grant on a registration gives for a kind: all
// of it for the registration's own kind; read for another kind its
// privacy extends to (see addOtherKinds), as writing that kind needs a
// grant of its own.
func otherKindPerm(reg *Package, kind Kind, p Perm) Perm {
	if reg.Kind == kind {
		return p
	}
	return min(p, PermRead)
}

// pypiNormal reports whether a lowercase name is already as PyPI
// normalizes it, so the hot path need not build it again.
func pypiNormal(name string) bool {
	return strings.IndexAny(name, "_.") < 0 && !strings.Contains(name, "--") && !strings.HasSuffix(name, "-")
}

// registration is the record that governs a package of a channel (pkg
// normalized for kind): its kind's registration, else the private one of
// the same name with another kind (see addOtherKinds), else a private one
// of another kind whose name differs only in case and separators (a
// conda file acme_tools-1.0-0.conda of the private PyPI project
// acme-tools).
func (v *aclView) registration(channel string, kind Kind, pkg string) *Package {
	if p := v.packages[pkgRef{channel, kind, pkg}]; p != nil {
		return p
	}
	name := pkg
	if !pypiNormal(pkg) {
		name = NormalizeName(PyPI, pkg)
	}
	for _, k := range allKinds {
		if p := v.spelled[pkgRef{channel, k, name}]; k != kind && p != nil {
			return p
		}
	}
	return nil
}

// Perm is what principal (an account name, "" for anonymous) may do with
// a package of a channel (any spelling; it is normalized for kind), or
// with the channel as a whole for pkg "", visibility aside: PermAdmin for
// the channel's own account and site administrators; for members of the
// organization's groups, the group's permission on the packages it covers
// (all packages for the owners group), and on the channel as a whole the
// permission of its groups over all packages, or read for a member whose
// groups list some packages (an admin group that lists packages
// administers those, not the organization); PermWrite for a package's
// collaborators; PermNone otherwise. PermAdmin on the channel as a whole
// is the right to organization-wide actions: groups, owners, tokens,
// packages of any name. The error is a store failure.
func (s *Store) Perm(principal, channel string, kind Kind, pkg string) (Perm, error) {
	v, err := s.view()
	if err != nil {
		return PermNone, err
	}
	return v.perm(principal, channel, kind, NormalizeName(kind, pkg)), nil
}

// TokenPerm is Perm for the holder of a token: its owner's permission,
// at most that of the account that bounds it (Credential.Bound).
func (s *Store) TokenPerm(tok *Credential, channel string, kind Kind, pkg string) (Perm, error) {
	v, err := s.view()
	if err != nil {
		return PermNone, err
	}
	return v.tokenPerm(tok, channel, kind, NormalizeName(kind, pkg)), nil
}

// tokenPerm is TokenPerm on this view, with pkg already normalized.
func (v *aclView) tokenPerm(tok *Credential, channel string, kind Kind, pkg string) Perm {
	p := v.perm(tok.Owner, channel, kind, pkg)
	if b := tok.Bound(); b != "" && p > PermNone {
		p = min(p, v.perm(b, channel, kind, pkg))
	}
	return p
}

// perm is Perm on this view, with pkg already normalized.
func (v *aclView) perm(principal, channel string, kind Kind, pkg string) Perm {
	best := v.wholeChannel(principal, channel)
	if principal == "" || best == PermAdmin {
		return best
	}
	var reg *Package
	if pkg != "" {
		reg = v.registration(channel, kind, pkg)
	}
	for _, g := range v.memberOf[orgUser{channel, principal}] {
		switch {
		case g.AllPackages:
			// counted by wholeChannel
		case pkg == "":
			best = max(best, PermRead) // some packages: the channel's index is readable
		case g.covers(kind, pkg):
			best = max(best, g.Perm)
		case reg != nil && reg.Kind != kind && g.covers(reg.Kind, reg.Name):
			best = max(best, otherKindPerm(reg, kind, g.Perm))
		}
	}
	if reg != nil && best < PermWrite && slices.Contains(reg.Collaborators, principal) {
		best = max(best, otherKindPerm(reg, kind, PermWrite))
	}
	return best
}

// PublicRead reports whether anyone may read a package of a channel (any
// spelling; it is normalized for kind): registered public, or not
// registered in a channel whose default is public. A channel without an
// account counts as private here (the gateway's policy for those is its
// own). The error is a store failure.
func (s *Store) PublicRead(channel string, kind Kind, pkg string) (bool, error) {
	v, err := s.view()
	if err != nil {
		return false, err
	}
	return v.publicRead(channel, kind, NormalizeName(kind, pkg), false), nil
}

// publicRead reports whether anyone may read a package (or, for pkg "",
// the channel's index). unregisteredPublic is the policy for channels that
// have no account.
func (v *aclView) publicRead(channel string, kind Kind, pkg string, unregisteredPublic bool) bool {
	if pkg == "" {
		return v.unlistedPublic(channel, unregisteredPublic) || v.hasPublic[chanKind{channel, kind}]
	}
	if p := v.registration(channel, kind, pkg); p != nil {
		return p.Public
	}
	return v.unlistedPublic(channel, unregisteredPublic)
}

// unlistedPublic reports whether anyone may read a package a channel has
// not registered: its account's default, or the policy for channels
// without an account.
func (v *aclView) unlistedPublic(channel string, unregisteredPublic bool) bool {
	if a := v.accounts[channel]; a != nil {
		return !a.PrivateByDefault
	}
	return unregisteredPublic
}

// wholeChannel is what principal (an account name, "" for anonymous) may
// do with every package of a channel: as its owner, as a site
// administrator, or through groups that cover all its packages.
func (v *aclView) wholeChannel(principal, channel string) Perm {
	switch {
	case principal == "":
		return PermNone
	case principal == channel:
		return PermAdmin
	}
	if a := v.accounts[principal]; a != nil && a.SiteAdmin {
		return PermAdmin
	}
	best := PermNone
	for _, g := range v.memberOf[orgUser{channel, principal}] {
		if g.AllPackages {
			best = max(best, g.Perm)
		}
	}
	return best
}
