package channelindex

import (
	"cmp"
	"strconv"
	"strings"
)

// compareVersions orders conda version strings roughly as conda's
// VersionOrder does: an optional "N!" epoch first, then the public part
// and any "+local" part compared component by component, where
// components split at '.', '_' and '-' and at changes between digits and
// letters; numbers compare as numbers and rank above words, "dev" ranks
// below every other word and "post" above, and a missing component is
// 0. It is used to pick each package's latest version for
// current_repodata.json and channeldata.json.
func compareVersions(a, b string) int {
	ea, ra := splitEpoch(a)
	eb, rb := splitEpoch(b)
	if c := cmp.Compare(ea, eb); c != 0 {
		return c
	}
	pa, la, _ := strings.Cut(ra, "+")
	pb, lb, _ := strings.Cut(rb, "+")
	if c := compareParts(versionParts(pa), versionParts(pb)); c != 0 {
		return c
	}
	return compareParts(versionParts(la), versionParts(lb))
}

func splitEpoch(v string) (int64, string) {
	v = strings.ToLower(strings.TrimSpace(v))
	if e, rest, ok := strings.Cut(v, "!"); ok {
		if n, err := strconv.ParseInt(e, 10, 64); err == nil {
			return n, rest
		}
	}
	return 0, v
}

// versionPart is a number (isNum) or a word.
type versionPart struct {
	isNum bool
	num   int64
	word  string
}

func versionParts(v string) []versionPart {
	var parts []versionPart
	for _, comp := range strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '_' || r == '-' }) {
		for comp != "" {
			i := 0
			digits := comp[0] >= '0' && comp[0] <= '9'
			for i < len(comp) && (comp[i] >= '0' && comp[i] <= '9') == digits {
				i++
			}
			p := versionPart{word: comp[:i]}
			if digits {
				p.isNum = true
				p.num, _ = strconv.ParseInt(comp[:i], 10, 64)
			}
			parts = append(parts, p)
			comp = comp[i:]
		}
	}
	return parts
}

func compareParts(a, b []versionPart) int {
	for i := range max(len(a), len(b)) {
		pa, pb := versionPart{isNum: true}, versionPart{isNum: true}
		if i < len(a) {
			pa = a[i]
		}
		if i < len(b) {
			pb = b[i]
		}
		if c := comparePart(pa, pb); c != 0 {
			return c
		}
	}
	return 0
}

// wordRank puts "dev" lowest and "post" highest among words.
func wordRank(w string) int {
	switch w {
	case "dev":
		return -1
	case "post":
		return 1
	}
	return 0
}

func comparePart(a, b versionPart) int {
	switch {
	case a.isNum && b.isNum:
		return cmp.Compare(a.num, b.num)
	case a.isNum != b.isNum:
		// A number ranks above a word, except "post", above all.
		if a.isNum {
			if b.word == "post" {
				return -1
			}
			return 1
		}
		return -comparePart(b, a)
	}
	if c := cmp.Compare(wordRank(a.word), wordRank(b.word)); c != 0 {
		return c
	}
	return strings.Compare(a.word, b.word)
}
