package tokenstore

import (
	"encoding/json"
	"fmt"
	"slices"
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
	memberOf map[orgUser][]*Group
	// hasPublic counts public registered packages per channel and kind.
	hasPublic map[chanKind]bool
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

// view returns the current access view, rebuilding it if a change was
// committed since it was built.
func (s *Store) view() (*aclView, error) {
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
		byChannel: map[chanKind][]*Package{}, memberOf: map[orgUser][]*Group{}, hasPublic: map[chanKind]bool{}}
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
			for _, m := range g.Members {
				ou := orgUser{g.Org, m}
				v.memberOf[ou] = append(v.memberOf[ou], &g)
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
			v.packages[pkgRef{p.Channel, p.Kind, p.Name}] = &p
			ck := chanKind{p.Channel, p.Kind}
			v.byChannel[ck] = append(v.byChannel[ck], &p)
			if p.Public {
				v.hasPublic[ck] = true
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// perm is what principal (an account name, "" for anonymous) may do with a
// package (normalized name; "" for the channel as a whole), visibility
// aside.
func (v *aclView) perm(principal, channel string, kind Kind, pkg string) Perm {
	if principal == "" {
		return PermNone
	}
	if principal == channel {
		return PermAdmin
	}
	if a := v.accounts[principal]; a != nil && a.SiteAdmin {
		return PermAdmin
	}
	best := PermNone
	for _, g := range v.memberOf[orgUser{channel, principal}] {
		switch {
		case g.AllPackages:
			best = max(best, g.Perm)
		case pkg == "":
			best = max(best, PermRead) // some packages: the channel's index is readable
		case g.Covers(kind, pkg):
			best = max(best, g.Perm)
		}
	}
	if pkg != "" && best < PermWrite {
		if p := v.packages[pkgRef{channel, kind, pkg}]; p != nil && slices.Contains(p.Collaborators, principal) {
			best = PermWrite
		}
	}
	return best
}

// publicRead reports whether anyone may read a package (or, for pkg "",
// the channel's index). unregisteredPublic is the policy for channels that
// have no account.
func (v *aclView) publicRead(channel string, kind Kind, pkg string, unregisteredPublic bool) bool {
	a := v.accounts[channel]
	if a == nil {
		return unregisteredPublic
	}
	if pkg == "" {
		return !a.PrivateByDefault || v.hasPublic[chanKind{channel, kind}]
	}
	if p := v.packages[pkgRef{channel, kind, pkg}]; p != nil {
		return p.Public
	}
	return !a.PrivateByDefault
}
