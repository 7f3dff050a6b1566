package tokenstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"time"
)

// Request is one access question: may the holder of Secret (or nobody)
// read or write a package in a channel?
type Request struct {
	Secret  string // presented token, "" for anonymous
	Channel string
	Kind    Kind
	// Package is the normalized package name; "" asks about the channel
	// as a whole (its indexes).
	Package string
	Write   bool
	// UnregisteredPublic is the policy for channels that have no account:
	// readable by anyone, or by nobody but site administrators.
	UnregisteredPublic bool
}

// Outcome is the verdict of a decision.
type Outcome uint8

const (
	Allow           Outcome = iota
	Unauthenticated         // 401: no token where one is needed, or a bad one
	Forbidden               // 403: a valid token without the scope or permission
	Unavailable             // 503: the store failed; fail closed
)

// Reason is a short, fixed word for why, fit for a metric label.
type Reason string

const (
	ReasonPublic         Reason = "public"
	ReasonGranted        Reason = "granted"
	ReasonNoToken        Reason = "no_token"
	ReasonMalformedToken Reason = "malformed_token"
	ReasonUnknownToken   Reason = "unknown_token"
	ReasonRevoked        Reason = "revoked"
	ReasonExpired        Reason = "expired"
	ReasonOwnerGone      Reason = "owner_gone"
	ReasonMissingScope   Reason = "missing_scope"
	ReasonNoPermission   Reason = "no_permission"
	ReasonStoreError     Reason = "store_error"
)

// Reasons lists every Reason (to pre-create metric series).
var Reasons = []Reason{ReasonPublic, ReasonGranted, ReasonNoToken, ReasonMalformedToken, ReasonUnknownToken,
	ReasonRevoked, ReasonExpired, ReasonOwnerGone, ReasonMissingScope, ReasonNoPermission, ReasonStoreError}

// Decision is the answer to a Request.
type Decision struct {
	Outcome Outcome
	Reason  Reason
	// Message is one line for the client; it never contains the secret.
	Message string
	// Hidden marks a refused read of a package in a channel whose
	// unregistered names anyone may read: a gateway that keeps private
	// names private answers it as a package the channel does not have
	// (404), the way the caller's index leaves it out.
	Hidden bool
	// Token is the presented token when it was valid.
	Token *Credential
	// Err is the store failure behind Unavailable.
	Err error
}

// Authorize decides a request. A valid token on a public package is
// allowed as if anonymous; an invalid one is refused even there, so a
// client with a revoked or expired token learns at once.
func (s *Store) Authorize(r Request) Decision {
	v, err := s.view()
	if err != nil {
		return unavailable(err)
	}
	var tok *Credential
	if r.Secret != "" {
		var reason Reason
		if tok, reason, err = s.authenticateToken(v, r.Secret); err != nil {
			if reason == ReasonStoreError {
				return unavailable(err)
			}
			return Decision{Outcome: Unauthenticated, Reason: reason, Message: err.Error()}
		}
	}
	if !r.Write && v.publicRead(r.Channel, r.Kind, r.Package, r.UnregisteredPublic) {
		return Decision{Outcome: Allow, Reason: ReasonPublic, Token: tok}
	}
	d := decidePrivate(v, r, tok)
	d.Hidden = d.Outcome != Allow && !r.Write && r.Package != "" && v.unlistedPublic(r.Channel, r.UnregisteredPublic)
	return d
}

// decidePrivate decides a request that public access does not allow:
// the token's scopes and its owner's permission must cover it.
func decidePrivate(v *aclView, r Request, tok *Credential) Decision {
	if tok == nil {
		return Decision{Outcome: Unauthenticated, Reason: ReasonNoToken, Message: "authentication required: this channel or package is private"}
	}
	need := capFor(r.Kind, r.Write)
	if !tok.Caps.Has(need) {
		return Decision{Outcome: Forbidden, Reason: ReasonMissingScope, Token: tok,
			Message: "token lacks scope " + string(ScopeFor(need))}
	}
	needPerm, verb := PermRead, "read"
	if r.Write {
		needPerm, verb = PermWrite, "write to"
	}
	if v.tokenPerm(tok, r.Channel, r.Kind, r.Package) < needPerm {
		what := r.Channel
		if r.Package != "" {
			what += "/" + r.Package
		}
		return Decision{Outcome: Forbidden, Reason: ReasonNoPermission, Token: tok,
			Message: tok.Owner + " may not " + verb + " " + what}
	}
	return Decision{Outcome: Allow, Reason: ReasonGranted, Token: tok}
}

// AuthenticateToken returns the credential of the live token a secret
// stands for and records its use (written in the next last-used batch).
// A secret that is malformed, unknown, revoked, expired or whose owner no
// longer exists fails with an error wrapping ErrAuth whose message is the
// one line the gateway answers with; a store failure is returned as it
// is, never as ErrAuth.
func (s *Store) AuthenticateToken(secret string) (*Credential, error) {
	v, err := s.view()
	if err != nil {
		return nil, err
	}
	tok, _, err := s.authenticateToken(v, secret)
	return tok, err
}

// authenticateToken resolves a secret to a live token, or says why not:
// a Reason with an ErrAuth error, or ReasonStoreError with the failure.
func (s *Store) authenticateToken(v *aclView, secret string) (*Credential, Reason, error) {
	ct, err := s.lookup(secret)
	switch {
	case errors.Is(err, ErrMalformedToken):
		return nil, ReasonMalformedToken, errorf(ErrAuth, "malformed token")
	case err != nil:
		return nil, ReasonStoreError, err
	case ct == nil:
		return nil, ReasonUnknownToken, errorf(ErrAuth, "unknown token")
	}
	now := s.now()
	switch {
	case ct.revoked:
		return nil, ReasonRevoked, errorf(ErrAuth, "token revoked")
	case ct.expired(now):
		return nil, ReasonExpired, errorf(ErrAuth, "token expired since %s; revoke it and create a new one",
			ct.cred.Expires.UTC().Format(time.RFC3339))
	case v.accounts[ct.cred.Owner] == nil:
		return nil, ReasonOwnerGone, errorf(ErrAuth, "token owner no longer exists")
	}
	s.touch(ct, now)
	return &ct.cred, "", nil
}

// unavailable is the decision on a store failure: fail closed.
func unavailable(err error) Decision {
	return Decision{Outcome: Unavailable, Reason: ReasonStoreError, Message: "access store unavailable", Err: err}
}

func capFor(kind Kind, write bool) Caps {
	switch {
	case kind == PyPI && write:
		return CapPyPIUpload
	case kind == PyPI:
		return CapPyPIDownload
	case write:
		return CapCondaUpload
	}
	return CapCondaDownload
}

// Visibility says which packages of one channel and kind a viewer may
// see in an index: every name is visible iff DefaultVisible, except the
// names in Except, which are the opposite.
type Visibility struct {
	DefaultVisible bool
	Except         map[string]bool
}

// Visible reports whether a normalized package name may be listed.
func (v Visibility) Visible(name string) bool { return v.DefaultVisible != v.Except[name] }

// All reports whether nothing is hidden.
func (v Visibility) All() bool { return v.DefaultVisible && len(v.Except) == 0 }

// Key identifies the visible set: equal keys mean equal views, so it can
// key caches of filtered indexes and ETags.
func (v Visibility) Key() string {
	names := make([]string, 0, len(v.Except))
	for n := range v.Except {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	if v.DefaultVisible {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Visibility computes what the viewer (nil for anonymous) may see in a
// channel's index of one kind. A token without the download scope for
// that kind sees what anonymous users see; a token bound by its creator's
// rights (Credential.Bound) sees what both its owner and its creator see.
func (s *Store) Visibility(viewer *Credential, channel string, kind Kind, unregisteredPublic bool) (Visibility, error) {
	v, err := s.view()
	if err != nil {
		return Visibility{}, err
	}
	if viewer == nil || !viewer.Caps.Has(capFor(kind, false)) {
		return v.visibility("", channel, kind, unregisteredPublic), nil
	}
	vis := v.visibility(viewer.Owner, channel, kind, unregisteredPublic)
	if b := viewer.Bound(); b != "" {
		vis = vis.intersect(v.visibility(b, channel, kind, unregisteredPublic))
	}
	return vis, nil
}

// intersect is the set of names visible in both v and o.
func (v Visibility) intersect(o Visibility) Visibility {
	out := Visibility{DefaultVisible: v.DefaultVisible && o.DefaultVisible}
	for _, except := range []map[string]bool{v.Except, o.Except} {
		for name := range except {
			if visible := v.Visible(name) && o.Visible(name); visible != out.DefaultVisible {
				out.addException(name)
			}
		}
	}
	return out
}

// visibility is what principal ("" for anonymous) may see in a channel's
// index of one kind.
func (v *aclView) visibility(principal, channel string, kind Kind, unregisteredPublic bool) Visibility {
	a := v.accounts[channel]
	if a == nil {
		return Visibility{DefaultVisible: unregisteredPublic || v.perm(principal, channel, kind, "") >= PermRead}
	}
	// Unregistered names follow the channel default, or are visible to
	// those who read all of the channel's packages.
	vis := Visibility{DefaultVisible: !a.PrivateByDefault || v.wholeChannel(principal, channel) >= PermRead}
	for _, p := range v.byChannel[chanKind{channel, kind}] {
		visible := p.Public || v.perm(principal, channel, kind, p.Name) >= PermRead
		if visible != vis.DefaultVisible {
			vis.addException(p.Name)
		}
	}
	if !vis.DefaultVisible {
		// Unregistered names a group grants read on are readable (see
		// perm), so they must be listed too.
		for _, g := range v.memberOf[orgUser{channel, principal}] {
			for name := range g.names[kind] {
				if v.packages[pkgRef{channel, kind, name}] == nil {
					vis.addException(name)
				}
			}
		}
	}
	return vis
}

func (v *Visibility) addException(name string) {
	if v.Except == nil {
		v.Except = map[string]bool{}
	}
	v.Except[name] = true
}
