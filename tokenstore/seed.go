package tokenstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Seed is what a fresh store starts with (channelgate_api's seed file):
// organizations and their packages, never users, passwords or tokens.
type Seed struct {
	Organizations []SeedOrg `json:"organizations"`
}

// SeedOrg is one organization of a seed, created without an owner.
type SeedOrg struct {
	Name     string        `json:"name"`
	Packages []SeedPackage `json:"packages"`
}

// SeedPackage is one package of a seed's organization.
type SeedPackage struct {
	Name  string   `json:"name"`
	Kinds []string `json:"kinds"` // "conda", "pypi"
	// Visibility is "public" or "private".
	Visibility string `json:"visibility"`
}

// ParseSeed reads a seed file's content and checks every entry; an error
// names the file and the entry in one line. Unknown fields (users,
// tokens, ...) are refused.
func ParseSeed(file string, data []byte) (*Seed, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sd Seed
	if err := dec.Decode(&sd); err != nil {
		return nil, fmt.Errorf("seed %s: %w: %v", file, ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("seed %s: %w: data after the JSON object", file, ErrInvalid)
	}
	seen := map[string]bool{}
	for i, o := range sd.Organizations {
		if err := ValidateAccountName(o.Name); err != nil {
			return nil, fmt.Errorf("seed %s: organizations[%d]: %w", file, i, err)
		}
		if seen[o.Name] {
			return nil, fmt.Errorf("seed %s: organizations[%d]: %q listed twice: %w", file, i, o.Name, ErrInvalid)
		}
		seen[o.Name] = true
		for j, p := range o.Packages {
			if err := p.check(); err != nil {
				return nil, fmt.Errorf("seed %s: organizations[%d] (%s).packages[%d]: %w", file, i, o.Name, j, err)
			}
		}
	}
	return &sd, nil
}

// check validates one package entry.
func (p SeedPackage) check() error {
	if err := ValidatePackageName(p.Name); err != nil {
		return err
	}
	if _, err := p.kinds(); err != nil {
		return err
	}
	if p.Visibility != "public" && p.Visibility != "private" {
		return invalidf("visibility must be public or private, not %q", p.Visibility)
	}
	return nil
}

// kinds parses the entry's kinds; at least one is needed.
func (p SeedPackage) kinds() ([]Kind, error) {
	if len(p.Kinds) == 0 {
		return nil, invalidf("no kinds given")
	}
	out := make([]Kind, len(p.Kinds))
	for i, k := range p.Kinds {
		var err error
		if out[i], err = ParseKind(k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// errHasAccount stops the scan of HasAccounts at the first account.
var errHasAccount = errors.New("has an account")

// HasAccounts reports whether the store holds any account, reading one
// at most.
func (s *Store) HasAccounts() (bool, error) {
	err := s.be.View(func(tx Tx) error {
		return tx.ForEach(bucketAccounts, nil, func(k, v []byte) error { return errHasAccount })
	})
	if errors.Is(err, errHasAccount) {
		return true, nil
	}
	return false, err
}

// ApplySeed creates what sd lists through CreateOrg and PutPackages,
// audited under actor (which must be a site administrator: the
// organizations have no owner yet), if the store holds no account; a
// store with accounts is left untouched, so restarts change nothing. It
// reports whether it seeded.
func (s *Store) ApplySeed(actor Actor, sd *Seed) (bool, error) {
	if has, err := s.HasAccounts(); has || err != nil {
		return false, err
	}
	for _, o := range sd.Organizations {
		if _, err := s.CreateOrg(actor, o.Name, ""); err != nil {
			return false, fmt.Errorf("seed organization %s: %w", o.Name, err)
		}
		for _, p := range o.Packages {
			kinds, err := p.kinds()
			if err == nil {
				_, err = s.PutPackages(actor, o.Name, kinds, p.Name, p.Visibility == "public", "")
			}
			if err != nil {
				return false, fmt.Errorf("seed package %s/%s: %w", o.Name, p.Name, err)
			}
		}
	}
	return true, nil
}
