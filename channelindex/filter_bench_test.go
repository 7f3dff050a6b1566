package channelindex

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// benchRepodata is a conda-forge-like repodata.json of about 120 MB
// (100,000 records in each of "packages" and "packages.conda", indented
// as conda-index writes it) and a predicate hiding about 10% of its
// package names. It is built once, deterministically.
var benchRepodata = sync.OnceValues(func() ([]byte, func(string) bool) {
	const names, perMap = 10000, 100000
	rng := rand.New(rand.NewPCG(1, 2))
	pkg := make([]string, names)
	hidden := make(map[string]bool)
	for i := range pkg {
		pkg[i] = fmt.Sprintf("%s-%s%d", []string{"py", "lib", "r", "perl", "ros"}[i%5], "pkg", i)
		if rng.IntN(10) == 0 {
			hidden[pkg[i]] = true
		}
	}
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[rng.IntN(16)]
		}
		return string(b)
	}
	var sb strings.Builder
	sb.WriteString("{\n  \"info\": {\n    \"subdir\": \"linux-64\"\n  },\n")
	for _, m := range []struct{ key, ext string }{{"packages", ".tar.bz2"}, {"packages.conda", ".conda"}} {
		fmt.Fprintf(&sb, "  %q: {\n", m.key)
		for r := 0; r < perMap; r++ {
			name := pkg[r*names/perMap]
			version := fmt.Sprintf("%d.%d.%d", r%7, r%13, r%5)
			build := fmt.Sprintf("py311h%s_%d", hex(7), r%3)
			if r > 0 {
				sb.WriteString(",\n")
			}
			fmt.Fprintf(&sb, `    "%s-%s-%s%s": {
      "build": %q,
      "build_number": %d,
      "depends": [
        "libgcc-ng >=12",
        "python >=3.11,<3.12.0a0",
        "python_abi 3.11.* *_cp311",
        "numpy >=1.23.5,<2.0a0"
      ],
      "license": "BSD-3-Clause",
      "license_family": "BSD",
      "md5": %q,
      "name": %q,
      "sha256": %q,
      "size": %d,
      "subdir": "linux-64",
      "timestamp": %d,
      "version": %q
    }`, name, version, build, m.ext, build, r%3, hex(32), name, hex(64), 10000+rng.IntN(1<<24), 1600000000000+int64(r)*1000, version)
		}
		sb.WriteString("\n  },\n")
	}
	sb.WriteString("  \"removed\": [\n    \"py-pkg0-0.0.0-py311h0000000_0.tar.bz2\"\n  ],\n  \"repodata_version\": 1\n}\n")
	return []byte(sb.String()), func(n string) bool { return !hidden[n] }
})

func BenchmarkFilterRepodata(b *testing.B) {
	src, visible := benchRepodata()
	out, err := FilterRepodata(src, visible)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := FilterRepodata(src, visible); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(src))/1e6, "in-MB")
	b.ReportMetric(float64(len(out))/1e6, "out-MB")
}
