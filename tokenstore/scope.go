package tokenstore

import (
	"sort"
	"strings"
)

// Scope is one of the anaconda.org token scopes.
type Scope string

// The eleven scopes a token can be created with.
const (
	ScopeAll            Scope = "all"
	ScopeRepos          Scope = "repos"
	ScopePyPI           Scope = "pypi"
	ScopePyPIUpload     Scope = "pypi:upload"
	ScopePyPIDownload   Scope = "pypi:download"
	ScopeConda          Scope = "conda"
	ScopeCondaDownload  Scope = "conda:download"
	ScopeAPI            Scope = "api"
	ScopeAPIWrite       Scope = "api:write"
	ScopeAPIRead        Scope = "api:read"
	ScopeAPIModifyGroup Scope = "api:modify-group"
)

// Caps is the set of capabilities a token's scopes grant; decisions test
// bits, never strings.
type Caps uint16

// Capabilities.
const (
	CapCondaDownload Caps = 1 << iota
	CapCondaUpload
	CapPyPIDownload
	CapPyPIUpload
	CapAPIRead
	CapAPIWrite
	CapAPIModifyGroup

	capsAPI   = CapAPIRead | CapAPIWrite | CapAPIModifyGroup
	capsConda = CapCondaDownload | CapCondaUpload
	capsPyPI  = CapPyPIDownload | CapPyPIUpload
	CapsAll   = capsAPI | capsConda | capsPyPI
)

// Has reports whether c includes every capability in need.
func (c Caps) Has(need Caps) bool { return c&need == need }

// scopeDef is what a scope grants and how anaconda.org describes it.
type scopeDef struct {
	caps Caps
	desc string
}

var scopeDefs = map[Scope]scopeDef{
	ScopeAll:            {CapsAll, "Access to everything: packages, uploads and the API"},
	ScopeRepos:          {capsConda | capsPyPI, "Download and upload conda and PyPI packages"},
	ScopePyPI:           {capsPyPI, "Download and upload PyPI packages"},
	ScopePyPIUpload:     {CapPyPIUpload, "Upload PyPI packages"},
	ScopePyPIDownload:   {CapPyPIDownload, "Download PyPI packages"},
	ScopeConda:          {capsConda, "Download and upload conda packages"},
	ScopeCondaDownload:  {CapCondaDownload, "Download conda packages"},
	ScopeAPI:            {capsAPI, "Full access to the API"},
	ScopeAPIWrite:       {CapAPIWrite | CapAPIRead, "Read and change accounts, packages and tokens through the API"},
	ScopeAPIRead:        {CapAPIRead, "Read accounts, packages and tokens through the API"},
	ScopeAPIModifyGroup: {CapAPIModifyGroup, "Change organization groups through the API"},
}

// ScopeNames lists the valid scopes, sorted.
func ScopeNames() []string {
	names := make([]string, 0, len(scopeDefs))
	for s := range scopeDefs {
		names = append(names, string(s))
	}
	sort.Strings(names)
	return names
}

// ScopeDescriptions maps every scope to its description (GET /scopes).
func ScopeDescriptions() map[string]string {
	m := make(map[string]string, len(scopeDefs))
	for s, d := range scopeDefs {
		m[string(s)] = d.desc
	}
	return m
}

// ParseScopes validates scope names (duplicates dropped, order kept) and
// returns the capabilities they grant. An empty list is an error: callers
// decide what "no scopes" means.
func ParseScopes(names []string) ([]Scope, Caps, error) {
	var (
		out  []Scope
		caps Caps
		seen = map[Scope]bool{}
	)
	for _, n := range names {
		s := Scope(strings.TrimSpace(n))
		if s == "" {
			continue
		}
		d, ok := scopeDefs[s]
		if !ok {
			return nil, 0, invalidf("unknown scope %q; valid scopes are: %s", n, strings.Join(ScopeNames(), ", "))
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
			caps |= d.caps
		}
	}
	if len(out) == 0 {
		return nil, 0, invalidf("no scopes given; valid scopes are: %s", strings.Join(ScopeNames(), ", "))
	}
	return out, caps, nil
}

// CapsOf returns the capabilities of already-validated scopes.
func CapsOf(scopes []Scope) Caps {
	var c Caps
	for _, s := range scopes {
		c |= scopeDefs[s].caps
	}
	return c
}

// ScopeFor names the narrowest scope that grants a capability, for error
// messages ("token lacks scope conda:download").
func ScopeFor(c Caps) Scope {
	switch c {
	case CapCondaDownload:
		return ScopeCondaDownload
	case CapCondaUpload:
		return ScopeConda
	case CapPyPIDownload:
		return ScopePyPIDownload
	case CapPyPIUpload:
		return ScopePyPIUpload
	case CapAPIRead:
		return ScopeAPIRead
	case CapAPIWrite:
		return ScopeAPIWrite
	case CapAPIModifyGroup:
		return ScopeAPIModifyGroup
	}
	return ScopeAll
}
