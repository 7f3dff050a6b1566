package admin

import (
	"slices"
	"testing"
)

func TestCheckCondaBasename(t *testing.T) {
	for _, tc := range []struct {
		base, name, ver string
		ok              bool
	}{
		{"noarch/tool-1.0-0.conda", "tool", "1.0", true},
		{"linux-64/tool-1.0-py_0.tar.bz2", "tool", "1.0", true},
		{"noarch/my-tool-1.0-0.conda", "my-tool", "1.0", true},
		{"noarch/Tool-1.0-0.conda", "tool", "1.0", true},
		{"noarch/tool-1.0-0.zip", "tool", "1.0", false},
		{"tool-1.0-0.conda", "tool", "1.0", false},
		{"../tool-1.0-0.conda", "tool", "1.0", false},
		{"noarch/sub/tool-1.0-0.conda", "tool", "1.0", false},
		{"noarch/tool-2.0-0.conda", "tool", "1.0", false},
		{"noarch/other-1.0-0.conda", "tool", "1.0", false},
		{"noarch/tool-1.0.conda", "tool", "1.0", false},
		{"noarch/tool-1.0-.conda", "tool", "1.0", false},
		{"NoArch/tool-1.0-0.conda", "tool", "1.0", false},
	} {
		if err := checkCondaBasename(tc.base, tc.name, tc.ver); (err == nil) != tc.ok {
			t.Errorf("checkCondaBasename(%q, %q, %q) = %v, want ok %v", tc.base, tc.name, tc.ver, err, tc.ok)
		}
	}
}

func TestTwineTarget(t *testing.T) {
	for _, tc := range []struct {
		path, token, channel string
		ok                   bool
	}{
		{"acme/", "", "acme", true},
		{"acme/simple/", "", "acme", true},
		{"acme/simple", "", "acme", true},
		{"t/cgt-x/acme/", "cgt-x", "acme", true},
		{"t/cgt-x/acme/simple/", "cgt-x", "acme", true},
		{"t//acme/", "", "", false},
		{"acme/simple/tool/", "", "", false},
		{"acme/other/", "", "", false},
		{"Acme/", "", "", false},
		{"api/", "", "", false},
	} {
		tok, ch, err := twineTarget(tc.path)
		if (err == nil) != tc.ok || tc.ok && (tok != tc.token || ch != tc.channel) {
			t.Errorf("twineTarget(%q) = %q, %q, %v; want %q, %q, ok %v", tc.path, tok, ch, err, tc.token, tc.channel, tc.ok)
		}
	}
}

func TestLabelsOf(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
		ok   bool
	}{
		{nil, []string{"main"}, true},
		{[]string{"dev", "dev", "main"}, []string{"dev", "main"}, true},
		{[]string{"../x"}, nil, false},
		{[]string{""}, nil, false},
	} {
		got, err := labelsOf(tc.in)
		if (err == nil) != tc.ok || tc.ok && !slices.Equal(got, tc.want) {
			t.Errorf("labelsOf(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
