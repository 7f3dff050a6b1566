package tokenstore

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// Plan is what an account may store: whether its packages may be private,
// how many bytes of package files it may keep and how large one file may
// be. A limit of 0 means no limit.
type Plan struct {
	Name string `json:"name"`
	// PrivatePackages allows uploads into private packages.
	PrivatePackages bool `json:"private_packages"`
	// StorageBytes bounds the sum of the sizes of the account's files.
	StorageBytes int64 `json:"storage_bytes"`
	// MaxFileBytes bounds one file.
	MaxFileBytes int64 `json:"max_file_bytes"`
}

// Built-in plans, as on anaconda.org: the free plan keeps public packages
// only, the academic plan (addresses under .edu) may keep private ones.
// An operator may redefine them or add others.
var (
	PlanFree     = Plan{Name: "free", StorageBytes: 3 << 30, MaxFileBytes: 1 << 30}
	PlanAcademic = Plan{Name: "academic", PrivatePackages: true, StorageBytes: 10 << 30, MaxFileBytes: 1 << 30}
	PlanStandard = Plan{Name: "standard", PrivatePackages: true, StorageBytes: 20 << 30, MaxFileBytes: 2 << 30}
)

// Defaults of Plans.
const (
	// DefaultPlanName is the plan of accounts no rule names: a team's
	// server keeps private packages.
	DefaultPlanName = "standard"
	// DefaultAcademicDomain gets the academic plan.
	DefaultAcademicDomain = ".edu"
)

// Plans is the operator's plan policy: the plans by name, the plan of new
// accounts and the plan of users whose email address ends in a domain.
// An account's own Plan, when set, wins over both.
type Plans struct {
	ByName map[string]Plan
	// Default names the plan of accounts without a plan of their own
	// whose address matches no domain (organizations included).
	// Default DefaultPlanName.
	Default string
	// Domains maps an address suffix (".edu", "example.org") to a plan
	// name; the longest matching suffix wins. Default {".edu": "academic"}.
	Domains map[string]string
}

// DefaultPlans is the policy when the operator sets none: the built-in
// plans, "standard" for everyone, "academic" for .edu addresses.
func DefaultPlans() Plans {
	return Plans{
		ByName:  map[string]Plan{PlanFree.Name: PlanFree, PlanAcademic.Name: PlanAcademic, PlanStandard.Name: PlanStandard},
		Default: DefaultPlanName,
		Domains: map[string]string{DefaultAcademicDomain: PlanAcademic.Name},
	}
}

// Validate checks that every plan the policy names is defined.
func (p Plans) Validate() error {
	if _, ok := p.ByName[p.Default]; !ok {
		return invalidf("default plan %q is not defined", p.Default)
	}
	for dom, name := range p.Domains {
		if _, ok := p.ByName[name]; !ok {
			return invalidf("plan %q of domain %q is not defined", name, dom)
		}
	}
	for name, pl := range p.ByName {
		if pl.Name != name || pl.StorageBytes < 0 || pl.MaxFileBytes < 0 {
			return invalidf("plan %q is malformed", name)
		}
	}
	return nil
}

// For returns the plan of an account: its own, else its address's
// domain's, else the default. An account plan the policy no longer
// defines falls back the same way.
func (p Plans) For(a *Account) Plan {
	if pl, ok := p.ByName[a.Plan]; ok && a.Plan != "" {
		return pl
	}
	if _, domain, ok := strings.Cut(strings.ToLower(a.Email), "@"); ok {
		best := ""
		for suffix := range p.Domains {
			s := strings.ToLower(suffix)
			match := domain == strings.TrimPrefix(s, ".") || strings.HasSuffix(domain, "."+strings.TrimPrefix(s, "."))
			if match && len(s) > len(best) {
				best = suffix
			}
		}
		if pl, ok := p.ByName[p.Domains[best]]; ok && best != "" {
			return pl
		}
	}
	return p.ByName[p.Default]
}

// Names lists the defined plans, sorted.
func (p Plans) Names() []string {
	out := make([]string, 0, len(p.ByName))
	for n := range p.ByName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// SetPlan gives an account a plan of its own ("" returns it to the
// policy's choice).
func (s *Store) SetPlan(actor Actor, name, plan string) error {
	return s.write(actor, func(w *writeTx) error {
		a, err := getAccount(w, name)
		if err != nil {
			return err
		}
		a.Plan = plan
		if err := putJSON(w, bucketAccounts, []byte(name), a); err != nil {
			return err
		}
		return w.audit("account.plan", name, plan)
	})
}

// Usage returns the bytes of package files an account keeps.
func (s *Store) Usage(account string) (int64, error) {
	var n int64
	err := s.be.View(func(tx Tx) error {
		var err error
		n, err = getUsage(tx, account)
		return err
	})
	return n, err
}

// Charge adds size bytes to an account's usage if its plan allows a file
// of that size, in a private package if private: ErrTooLarge if the file
// is larger than the plan's largest file, ErrForbidden if the package is
// private and the plan keeps public packages only, or if the account
// would exceed its storage. The check and the addition are one
// transaction, so concurrent uploads cannot together exceed the plan.
// replaced is the size of a file the upload replaces (0 if none): it is
// given back in the same transaction.
func (s *Store) Charge(account string, plan Plan, size, replaced int64, private bool) error {
	if err := plan.Admits(size, private); err != nil {
		return err
	}
	return s.write(Actor{}, func(w *writeTx) error {
		used, err := getUsage(w, account)
		if err != nil {
			return err
		}
		next := max(used-replaced, 0) + size
		if plan.StorageBytes > 0 && next > plan.StorageBytes {
			return forbiddenf("storage quota exceeded: %s would keep %d bytes, plan %s allows %d", account, next, plan.Name, plan.StorageBytes)
		}
		return putUsage(w, account, next)
	})
}

// Admits checks one file against the plan's per-file rules (not the
// storage, which needs the account's usage).
func (p Plan) Admits(size int64, private bool) error {
	switch {
	case size < 0:
		return invalidf("negative file size")
	case p.MaxFileBytes > 0 && size > p.MaxFileBytes:
		return errorf(ErrTooLarge, "file of %d bytes is larger than plan %s allows (%d bytes)", size, p.Name, p.MaxFileBytes)
	case private && !p.PrivatePackages:
		return forbiddenf("plan %s does not allow private packages", p.Name)
	}
	return nil
}

// Refund takes size bytes off an account's usage (a removed file), never
// below zero.
func (s *Store) Refund(account string, size int64) error {
	return s.write(Actor{}, func(w *writeTx) error {
		used, err := getUsage(w, account)
		if err != nil {
			return err
		}
		return putUsage(w, account, max(used-size, 0))
	})
}

// getUsage reads an account's usage: 8 bytes big endian, absent as 0.
func getUsage(tx Tx, account string) (int64, error) {
	v := tx.Get(bucketUsage, []byte(account))
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return int64(binary.BigEndian.Uint64(v)), nil
	}
	return 0, fmt.Errorf("usage of %q: %w: %d bytes", account, ErrCorrupt, len(v))
}

func putUsage(tx Tx, account string, n int64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(n))
	return tx.Put(bucketUsage, []byte(account), v[:])
}
