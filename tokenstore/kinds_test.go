package tokenstore

import "testing"

// TestPrivateAcrossKinds proves finding 14's fix in the decision: a name
// registered private with one kind is private for every kind of that
// name in the channel, its collaborators and index views included, while
// a kind registered on its own follows its own registration.
func TestPrivateAcrossKinds(t *testing.T) {
	w := newWorld(t) // alice: conda priv (private, collaborator carol); acme: pypi acme-tools (private)
	s := w.s
	addPackage(t, s, "alice", PyPI, "both", true)
	addPackage(t, s, "alice", Conda, "both", false)
	for _, tc := range []struct {
		name, token, channel string
		kind                 Kind
		pkg                  string
		want                 Outcome
	}{
		{"anon, PyPI page of a private conda package", "", "alice", PyPI, "priv", Unauthenticated},
		{"collaborator of the conda registration, PyPI page", "carol", "alice", PyPI, "priv", Allow},
		{"stranger, PyPI page of a private conda package", "dave", "alice", PyPI, "priv", Forbidden},
		{"anon, conda file of a private PyPI project", "", "acme", Conda, "acme-tools", Unauthenticated},
		{"anon, conda file spelled with underscores", "", "acme", Conda, "acme_tools", Unauthenticated},
		{"group member covering Acme_Tools, conda file", "bob", "acme", Conda, "acme_tools", Allow},
		{"anon, unregistered look-alike stays public", "", "acme", Conda, "acme-toolsx", Allow},
		{"own registration governs its kind: public PyPI", "", "alice", PyPI, "both", Allow},
		{"own registration governs its kind: private conda", "", "alice", Conda, "both", Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := s.Authorize(Request{Secret: w.tokens[tc.token], Channel: tc.channel, Kind: tc.kind, Package: tc.pkg})
			if d.Outcome != tc.want {
				t.Fatalf("outcome %v (%s), want %v", d.Outcome, d.Message, tc.want)
			}
		})
	}
	vis, err := s.Visibility(nil, "alice", PyPI, false)
	must(t, err)
	if vis.Visible("priv") || !vis.Visible("both") || !vis.Visible("pub") {
		t.Fatalf("anonymous PyPI index of alice: %+v", vis)
	}
	vis, err = s.Visibility(nil, "acme", Conda, false)
	must(t, err)
	if vis.Visible("acme-tools") {
		t.Fatalf("anonymous conda index of acme lists the private PyPI project: %+v", vis)
	}
}
