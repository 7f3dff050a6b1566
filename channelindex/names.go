package channelindex

import (
	"fmt"

	"github.com/channelgate/channelgate/tokenstore"
)

// MainLabel is the default label: its files live at the channel root,
// not under label/main/.
const MainLabel = "main"

// ValidateSubdir accepts conda platform subdirs: "noarch", "linux-64",
// "osx-arm64", "emscripten-wasm32", ...: 1 to 32 characters of
// lowercase letters, digits, '-' and '_', starting with a letter.
func ValidateSubdir(s string) error {
	if s == "" || len(s) > 32 || !(s[0] >= 'a' && s[0] <= 'z') {
		return fmt.Errorf("subdir %q must be 1 to 32 characters starting with a letter", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("subdir %q must be lowercase letters, digits, '-' and '_'", s)
		}
	}
	if s == "label" || s == "simple" || s == "t" {
		return fmt.Errorf("subdir %q is reserved", s)
	}
	return nil
}

// ValidLabel reports whether l can be a label: 1 to 64 characters of
// letters, digits, '.', '_' and '-' (what the gateway accepts in
// /label/<l>/).
func ValidLabel(l string) bool {
	if l == "" || len(l) > 64 || l == "." || l == ".." {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// labelRoot is the storage folder of a channel's label: "<channel>" for
// main, "<channel>/label/<label>" otherwise.
func labelRoot(channel, label string) string {
	if label == "" || label == MainLabel {
		return channel
	}
	return channel + "/label/" + label
}

// validChannel checks a channel name as the gateway does.
func validChannel(channel string) error {
	if err := tokenstore.ValidateAccountName(channel); err != nil {
		return badRequestf("channel: %s", err)
	}
	return nil
}

// normalizeLabels checks labels and returns them without duplicates,
// "main" when none.
func normalizeLabels(labels []string) ([]string, error) {
	if len(labels) == 0 {
		return []string{MainLabel}, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range labels {
		if l == "" {
			l = MainLabel
		}
		if !ValidLabel(l) {
			return nil, badRequestf("invalid label %q: letters, digits, '.', '_' and '-', at most 64", l)
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out, nil
}
