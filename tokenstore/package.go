package tokenstore

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Kind is a package ecosystem.
type Kind string

const (
	Conda Kind = "conda"
	PyPI  Kind = "pypi"
)

// allKinds lists every Kind.
var allKinds = []Kind{Conda, PyPI}

// ParseKind accepts "conda" and "pypi".
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case Conda, PyPI:
		return Kind(s), nil
	}
	return "", invalidf("package type must be conda or pypi, not %q", s)
}

// NormalizeName gives the form a package name is stored and compared in:
// lowercase for conda, PEP 503 for PyPI (runs of '-', '_' and '.' become
// one '-').
func NormalizeName(kind Kind, name string) string {
	if kind != PyPI {
		return strings.ToLower(name)
	}
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ValidatePackageName accepts 1 to 128 characters of [A-Za-z0-9._-] that
// start with a letter, a digit or '_' (conda's "_libgcc_mutex").
func ValidatePackageName(name string) error {
	if name == "" || len(name) > 128 {
		return invalidf("package name must be 1 to 128 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || i > 0 && (c == '.' || c == '-')
		if !ok {
			return invalidf("package name %q must be letters, digits, '.', '_' or '-'", name)
		}
	}
	return nil
}

// Package registers one package name of one kind in a channel, with its
// access. Files of unregistered packages follow the channel's default.
type Package struct {
	Channel       string    `json:"channel"`
	Name          string    `json:"name"` // normalized for Kind
	Kind          Kind      `json:"kind"`
	Public        bool      `json:"public"`
	Collaborators []string  `json:"collaborators"`
	Created       time.Time `json:"created"`
	Summary       string    `json:"summary,omitempty"`
}

func packageKey(channel string, kind Kind, name string) []byte {
	return key(channel, string(kind), name)
}

// PutPackage creates a package or changes its access and summary.
func (s *Store) PutPackage(actor Actor, channel string, kind Kind, name string, public bool, summary string) (*Package, error) {
	ps, err := s.PutPackages(actor, channel, []Kind{kind}, name, public, summary)
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// PutPackages is PutPackage for several kinds of one name at once, in one
// transaction: every kind is created or changed, or none is. It returns
// the records in the order of kinds.
func (s *Store) PutPackages(actor Actor, channel string, kinds []Kind, name string, public bool, summary string) ([]*Package, error) {
	return s.editPackages(actor, channel, kinds, name, true, func(p *Package) {
		p.Public, p.Summary = public, summary
	})
}

// UpdatePackages changes the registered records of one name for each of
// kinds, in one transaction: public and summary when not nil, each record
// keeping its own value otherwise. A kind that is not registered fails
// the whole update with ErrNotFound.
func (s *Store) UpdatePackages(actor Actor, channel string, kinds []Kind, name string, public *bool, summary *string) ([]*Package, error) {
	return s.editPackages(actor, channel, kinds, name, false, func(p *Package) {
		if public != nil {
			p.Public = *public
		}
		if summary != nil {
			p.Summary = *summary
		}
	})
}

// editPackages applies edit to the record of name for each of kinds
// (creating missing ones if create is set) and stores them all in one
// transaction.
func (s *Store) editPackages(actor Actor, channel string, kinds []Kind, name string, create bool, edit func(*Package)) ([]*Package, error) {
	if err := ValidatePackageName(name); err != nil {
		return nil, err
	}
	if len(kinds) == 0 {
		return nil, invalidf("no package type given")
	}
	for _, k := range kinds {
		if _, err := ParseKind(string(k)); err != nil {
			return nil, err
		}
	}
	out := make([]*Package, 0, len(kinds))
	err := s.write(actor, func(w *writeTx) error {
		out = out[:0]
		if _, err := getAccount(w, channel); err != nil {
			return err
		}
		for _, kind := range kinds {
			norm := NormalizeName(kind, name)
			p, err := getPackage(w, channel, kind, norm)
			if create && isNotFound(err) {
				if err := checkRoom(w, bucketPackages, key(channel, ""), MaxPackagesPerChannel, "the packages of "+channel); err != nil {
					return err
				}
				p, err = &Package{Channel: channel, Name: norm, Kind: kind, Collaborators: []string{}, Created: s.now().UTC()}, nil
			}
			if err != nil {
				return err
			}
			edit(p)
			if err := checkLen("summary", p.Summary, MaxTextLen); err != nil {
				return err
			}
			access := "private"
			if p.Public {
				access = "public"
			}
			if err := w.putPackage(p, "package.put", string(kind)+" "+access); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePackage removes a package's registration (its files follow the
// channel default afterwards).
func (s *Store) DeletePackage(actor Actor, channel string, kind Kind, name string) error {
	name = NormalizeName(kind, name)
	return s.write(actor, func(w *writeTx) error {
		if _, err := getPackage(w, channel, kind, name); err != nil {
			return err
		}
		w.aclChanged = true
		if err := w.Delete(bucketPackages, packageKey(channel, kind, name)); err != nil {
			return err
		}
		return w.audit("package.delete", channel+"/"+name, string(kind))
	})
}

// Package returns one registered package.
func (s *Store) Package(channel string, kind Kind, name string) (*Package, error) {
	var p *Package
	err := s.be.View(func(tx Tx) error {
		var err error
		p, err = getPackage(tx, channel, kind, NormalizeName(kind, name))
		return err
	})
	return p, err
}

// Packages lists a channel's registered packages.
func (s *Store) Packages(channel string) ([]*Package, error) {
	var out []*Package
	err := s.be.View(func(tx Tx) error {
		if _, err := getAccount(tx, channel); err != nil {
			return err
		}
		return tx.ForEach(bucketPackages, key(channel, ""), func(k, v []byte) error {
			var p Package
			if err := json.Unmarshal(v, &p); err != nil {
				return ErrCorrupt
			}
			out = append(out, &p)
			return nil
		})
	})
	return out, err
}

// SetCollaborator adds (in=true) or removes a user who may read and
// upload a package.
func (s *Store) SetCollaborator(actor Actor, channel string, kind Kind, name, user string, in bool) error {
	name = NormalizeName(kind, name)
	return s.write(actor, func(w *writeTx) error {
		p, err := getPackage(w, channel, kind, name)
		if err != nil {
			return err
		}
		i := slices.Index(p.Collaborators, user)
		action := "package.collaborator.add"
		switch {
		case in && i < 0:
			u, err := getAccount(w, user)
			if err != nil {
				return err
			}
			if u.Type != User {
				return invalidf("%q is an organization; collaborators are users", user)
			}
			if err := checkListLen("the collaborators of "+channel+"/"+name, len(p.Collaborators), MaxListLen); err != nil {
				return err
			}
			p.Collaborators = append(p.Collaborators, user)
		case !in && i < 0:
			return notFoundf("%q is not a collaborator on %s/%s", user, channel, name)
		case !in:
			p.Collaborators = slices.Delete(p.Collaborators, i, i+1)
			action = "package.collaborator.remove"
		}
		return w.putPackage(p, action, user)
	})
}

func (w *writeTx) putPackage(p *Package, action, detail string) error {
	w.aclChanged = true
	if err := putJSON(w, bucketPackages, packageKey(p.Channel, p.Kind, p.Name), p); err != nil {
		return err
	}
	return w.audit(action, p.Channel+"/"+p.Name, detail)
}

func getPackage(tx Tx, channel string, kind Kind, name string) (*Package, error) {
	var p Package
	ok, err := getJSON(tx, bucketPackages, packageKey(channel, kind, name), &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFoundf("no %s package %s/%s", kind, channel, name)
	}
	return &p, nil
}
