package tokenstore

import "errors"

// The decisions the API and the web pages share: who may administer an
// organization, change a package, or see a package's name. Both call
// these, so a page offers exactly what the API allows.

// Viewer is who a decision is for: an account (Name; "" is anonymous)
// acting with its password or session, or the holder of a token (Token),
// who has at most what the token's creator may do (TokenPerm).
type Viewer struct {
	Name  string
	Token *Credential
}

// viewerPerm is Perm or TokenPerm for v.
func (s *Store) viewerPerm(v Viewer, channel string, kind Kind, pkg string) (Perm, error) {
	if v.Token != nil {
		return s.TokenPerm(v.Token, channel, kind, pkg)
	}
	return s.Perm(v.Name, channel, kind, pkg)
}

// Require fails with ErrForbidden unless v holds at least perm on channel
// as a whole: PermAdmin administers an organization (its groups and tokens),
// PermWrite changes all its packages, PermRead sees its groups. A channel
// without an account is ErrNotFound.
func (s *Store) Require(v Viewer, channel string, perm Perm) error {
	got, err := s.viewerPerm(v, channel, Conda, "")
	if err != nil {
		return err
	}
	if got >= perm {
		return nil
	}
	if _, err := s.Account(channel); err != nil {
		return err
	}
	return forbiddenf("%s may not %s %s", displayName(v.Name), permVerb[perm], channel)
}

// RequirePackage fails with ErrForbidden unless v administers the
// package name of each of kinds in channel: write on the whole channel
// (its account, owners, groups over all packages), or admin on the
// package itself (an admin group that lists it). A channel without an
// account is ErrNotFound.
func (s *Store) RequirePackage(v Viewer, channel, name string, kinds []Kind) error {
	err := s.Require(v, channel, PermWrite)
	if !errors.Is(err, ErrForbidden) {
		return err
	}
	for _, k := range kinds {
		p, err := s.viewerPerm(v, channel, k, name)
		if err != nil {
			return err
		}
		if p < PermAdmin {
			return forbiddenf("%s may not administer %s/%s", displayName(v.Name), channel, name)
		}
	}
	return nil
}

// Readable reports whether v may read a package name of one kind,
// registered or not: it is public, or v has read permission on it.
func (s *Store) Readable(v Viewer, channel string, kind Kind, name string) (bool, error) {
	public, err := s.PublicRead(channel, kind, name)
	if public || err != nil {
		return public, err
	}
	perm, err := s.viewerPerm(v, channel, kind, name)
	return perm >= PermRead, err
}

// ReadableNames keeps the package names v may read, so that listings
// never show a private name to someone who may not read it: a
// registered name if one of its registered kinds is readable, an
// unregistered one if one of its kinds is.
func (s *Store) ReadableNames(v Viewer, channel string, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		kinds, err := s.registeredKinds(channel, n)
		if err != nil {
			return nil, err
		}
		if len(kinds) == 0 {
			kinds = allKinds
		}
		for _, k := range kinds {
			ok, err := s.Readable(v, channel, k, n)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, n)
				break
			}
		}
	}
	return out, nil
}

// registeredKinds lists the kinds name is registered for in channel.
func (s *Store) registeredKinds(channel, name string) ([]Kind, error) {
	var out []Kind
	for _, k := range allKinds {
		_, err := s.Package(channel, k, name)
		switch {
		case err == nil:
			out = append(out, k)
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// displayName is how refusals name a principal.
func displayName(principal string) string {
	if principal == "" {
		return "anonymous"
	}
	return principal
}

var permVerb = map[Perm]string{
	PermRead:  "read",
	PermWrite: "write to",
	PermAdmin: "administer",
}
