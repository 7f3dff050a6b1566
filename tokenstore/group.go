package tokenstore

import (
	"encoding/json"
	"slices"
)

// Perm is what a group grants on its packages.
type Perm int

const (
	PermNone  Perm = iota
	PermRead       // download
	PermWrite      // download and upload ("read-write")
	PermAdmin      // everything, including the organization's settings
)

// OwnersGroup is every organization's built-in group: admin on all
// packages, created with the organization, never empty or removed.
const OwnersGroup = "owners"

var permNames = map[Perm]string{PermNone: "none", PermRead: "read", PermWrite: "write", PermAdmin: "admin"}

func (p Perm) String() string { return permNames[p] }

// ParsePerm accepts anaconda.org's "read", "write" and "admin", and
// "read-write" for "write".
func ParsePerm(s string) (Perm, error) {
	switch s {
	case "read":
		return PermRead, nil
	case "write", "read-write":
		return PermWrite, nil
	case "admin":
		return PermAdmin, nil
	}
	return PermNone, invalidf("permission must be read, write (read-write) or admin, not %q", s)
}

func (p Perm) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

func (p *Perm) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParsePerm(s)
	*p = v
	return err
}

// Group grants its members a permission on some or all of an
// organization's packages.
type Group struct {
	Org         string   `json:"org"`
	Name        string   `json:"name"`
	Perm        Perm     `json:"perm"`
	Members     []string `json:"members"`
	Packages    []string `json:"packages"`
	AllPackages bool     `json:"all_packages,omitempty"`
}

// Covers reports whether the group applies to a package of a kind
// (name already normalized for that kind).
func (g *Group) Covers(kind Kind, name string) bool {
	if g.AllPackages {
		return true
	}
	for _, p := range g.Packages {
		if NormalizeName(kind, p) == name {
			return true
		}
	}
	return false
}

// PutGroup creates a group or changes its permission.
func (s *Store) PutGroup(actor Actor, org, name string, perm Perm) (*Group, error) {
	// Group names live inside an organization, not in the account
	// namespace, so the reserved account names ("admin") are fine.
	if !validName(name) {
		return nil, invalidf("group name %q must be 1 to 64 lowercase letters, digits, '.', '_' or '-'", name)
	}
	if perm < PermRead || perm > PermAdmin {
		return nil, invalidf("permission must be read, write or admin")
	}
	var g *Group
	err := s.write(actor, func(w *writeTx) error {
		if err := requireOrg(w, org); err != nil {
			return err
		}
		var err error
		g, err = getGroup(w, org, name)
		if isNotFound(err) {
			if err := checkRoom(w, bucketGroups, key(org, ""), MaxGroupsPerOrg, "the groups of "+org); err != nil {
				return err
			}
			g, err = &Group{Org: org, Name: name, Members: []string{}, Packages: []string{}}, nil
		}
		if err != nil {
			return err
		}
		if name == OwnersGroup && perm != PermAdmin {
			return forbiddenf("the owners group is always admin")
		}
		g.Perm = perm
		return w.putGroup(g, "group.put", perm.String())
	})
	return g, err
}

// DeleteGroup removes a group other than owners.
func (s *Store) DeleteGroup(actor Actor, org, name string) error {
	if name == OwnersGroup {
		return forbiddenf("the owners group cannot be removed")
	}
	return s.write(actor, func(w *writeTx) error {
		if _, err := getGroup(w, org, name); err != nil {
			return err
		}
		w.aclChanged = true
		if err := w.Delete(bucketGroups, key(org, name)); err != nil {
			return err
		}
		return w.audit("group.delete", org+"/"+name, "")
	})
}

// Group returns one group.
func (s *Store) Group(org, name string) (*Group, error) {
	var g *Group
	err := s.be.View(func(tx Tx) error {
		var err error
		g, err = getGroup(tx, org, name)
		return err
	})
	return g, err
}

// Groups lists an organization's groups.
func (s *Store) Groups(org string) ([]*Group, error) {
	var out []*Group
	err := s.be.View(func(tx Tx) error {
		if err := requireOrg(tx, org); err != nil {
			return err
		}
		var err error
		out, err = listGroups(tx, org)
		return err
	})
	return out, err
}

func listGroups(tx Tx, org string) ([]*Group, error) {
	var out []*Group
	err := tx.ForEach(bucketGroups, key(org, ""), func(k, v []byte) error {
		var g Group
		if err := json.Unmarshal(v, &g); err != nil {
			return ErrCorrupt
		}
		out = append(out, &g)
		return nil
	})
	return out, err
}

// SetMember adds (in=true) or removes a user from a group. The last owner
// cannot leave.
func (s *Store) SetMember(actor Actor, org, group, user string, in bool) error {
	return s.editGroup(actor, org, group, func(w *writeTx, g *Group) (string, error) {
		if in {
			u, err := getAccount(w, user)
			if err != nil {
				return "", err
			}
			if u.Type != User {
				return "", invalidf("%q is an organization; only users can be members", user)
			}
			if !slices.Contains(g.Members, user) {
				if err := checkListLen("the members of "+org+"/"+group, len(g.Members), MaxListLen); err != nil {
					return "", err
				}
				g.Members = append(g.Members, user)
			}
			return "group.member.add", nil
		}
		i := slices.Index(g.Members, user)
		if i < 0 {
			return "", notFoundf("%q is not a member of %s/%s", user, org, group)
		}
		if group == OwnersGroup && len(g.Members) == 1 {
			return "", forbiddenf("the last member of owners cannot be removed")
		}
		g.Members = slices.Delete(g.Members, i, i+1)
		return "group.member.remove", nil
	}, user)
}

// SetGroupPackage adds (in=true) or removes a package from a group.
func (s *Store) SetGroupPackage(actor Actor, org, group, pkg string, in bool) error {
	if err := ValidatePackageName(pkg); err != nil {
		return err
	}
	return s.editGroup(actor, org, group, func(w *writeTx, g *Group) (string, error) {
		if g.AllPackages {
			return "", forbiddenf("group %s/%s covers all packages", org, group)
		}
		i := slices.Index(g.Packages, pkg)
		if in {
			if i < 0 {
				if err := checkListLen("the packages of "+org+"/"+group, len(g.Packages), MaxListLen); err != nil {
					return "", err
				}
				g.Packages = append(g.Packages, pkg)
			}
			return "group.package.add", nil
		}
		if i < 0 {
			return "", notFoundf("package %q is not in %s/%s", pkg, org, group)
		}
		g.Packages = slices.Delete(g.Packages, i, i+1)
		return "group.package.remove", nil
	}, pkg)
}

func (s *Store) editGroup(actor Actor, org, name string, edit func(*writeTx, *Group) (string, error), detail string) error {
	return s.write(actor, func(w *writeTx) error {
		g, err := getGroup(w, org, name)
		if err != nil {
			return err
		}
		action, err := edit(w, g)
		if err != nil {
			return err
		}
		return w.putGroup(g, action, detail)
	})
}

func (w *writeTx) putGroup(g *Group, action, detail string) error {
	w.aclChanged = true
	if err := putJSON(w, bucketGroups, key(g.Org, g.Name), g); err != nil {
		return err
	}
	return w.audit(action, g.Org+"/"+g.Name, detail)
}

func getGroup(tx Tx, org, name string) (*Group, error) {
	var g Group
	ok, err := getJSON(tx, bucketGroups, key(org, name), &g)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFoundf("no group %s/%s", org, name)
	}
	return &g, nil
}

func requireOrg(tx Tx, name string) error {
	a, err := getAccount(tx, name)
	if err != nil {
		return err
	}
	if a.Type != Org {
		return invalidf("%q is a user, not an organization", name)
	}
	return nil
}
