package tokenstore

import (
	"slices"
	"strings"
	"testing"
)

var allScopes = []string{"all", "api", "api:modify-group", "api:read", "api:write", "conda", "conda:download",
	"pypi", "pypi:download", "pypi:upload", "repos"}

func TestScopeNames(t *testing.T) {
	if got := ScopeNames(); !slices.Equal(got, allScopes) {
		t.Fatalf("ScopeNames() = %v, want %v", got, allScopes)
	}
	desc := ScopeDescriptions()
	for _, n := range allScopes {
		if desc[n] == "" {
			t.Errorf("scope %q has no description", n)
		}
	}
	if len(desc) != len(allScopes) {
		t.Errorf("ScopeDescriptions has %d entries, want %d", len(desc), len(allScopes))
	}
}

// TestScopeCaps pins what every scope grants: exactly these capabilities
// and no others.
func TestScopeCaps(t *testing.T) {
	for _, tc := range []struct {
		scope Scope
		want  Caps
	}{
		{ScopeAll, CapCondaDownload | CapCondaUpload | CapPyPIDownload | CapPyPIUpload | CapAPIRead | CapAPIWrite | CapAPIModifyGroup},
		{ScopeRepos, CapCondaDownload | CapCondaUpload | CapPyPIDownload | CapPyPIUpload},
		{ScopeConda, CapCondaDownload | CapCondaUpload},
		{ScopeCondaDownload, CapCondaDownload},
		{ScopePyPI, CapPyPIDownload | CapPyPIUpload},
		{ScopePyPIUpload, CapPyPIUpload},
		{ScopePyPIDownload, CapPyPIDownload},
		{ScopeAPI, CapAPIRead | CapAPIWrite | CapAPIModifyGroup},
		{ScopeAPIWrite, CapAPIRead | CapAPIWrite},
		{ScopeAPIRead, CapAPIRead},
		{ScopeAPIModifyGroup, CapAPIModifyGroup},
	} {
		t.Run(string(tc.scope), func(t *testing.T) {
			sc, caps, err := ParseScopes([]string{string(tc.scope)})
			must(t, err)
			if caps != tc.want || CapsOf(sc) != tc.want {
				t.Fatalf("caps = %b (CapsOf %b), want %b", caps, CapsOf(sc), tc.want)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []string
		want   []Scope
		caps   Caps
		errSub string // "" for success
	}{
		{"dedup keeps order", []string{"pypi:upload", " conda ", "pypi:upload"},
			[]Scope{ScopePyPIUpload, ScopeConda}, CapPyPIUpload | capsConda, ""},
		{"blank entries ignored", []string{"", "api:read", "  "}, []Scope{ScopeAPIRead}, CapAPIRead, ""},
		{"union", []string{"conda:download", "pypi:download"}, []Scope{ScopeCondaDownload, ScopePyPIDownload},
			CapCondaDownload | CapPyPIDownload, ""},
		{"unknown", []string{"conda", "conda:upload"}, nil, 0, `unknown scope "conda:upload"`},
		{"case matters", []string{"ALL"}, nil, 0, `unknown scope "ALL"`},
		{"empty", nil, nil, 0, "no scopes given"},
		{"only blanks", []string{" "}, nil, 0, "no scopes given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, caps, err := ParseScopes(tc.in)
			if tc.errSub != "" {
				wantErr(t, err, ErrInvalid, tc.errSub)
				// Every refusal teaches the valid names.
				if !strings.Contains(err.Error(), strings.Join(allScopes, ", ")) {
					t.Fatalf("error %q does not list the valid scopes", err)
				}
				return
			}
			must(t, err)
			if !slices.Equal(sc, tc.want) || caps != tc.caps {
				t.Fatalf("ParseScopes = %v %b, want %v %b", sc, caps, tc.want, tc.caps)
			}
		})
	}
}

// TestScopeFor checks that the scope named in a refusal grants the
// capability that was missing.
func TestScopeFor(t *testing.T) {
	for c := CapCondaDownload; c <= CapAPIModifyGroup; c <<= 1 {
		s := ScopeFor(c)
		if s == ScopeAll {
			t.Errorf("capability %b has no narrower scope than all", c)
		}
		if !scopeDefs[s].caps.Has(c) {
			t.Errorf("ScopeFor(%b) = %s, which does not grant it", c, s)
		}
	}
}
