package channelindex

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// bigRepodata writes a linux-64 repodata.json of n records shaped like
// conda-forge's (about 600 bytes each), as conda-index would, with no
// package file behind them: an update must not need them.
func bigRepodata(tb testing.TB, root string, n int) {
	tb.Helper()
	st := newSubdirState("linux-64")
	for i := range n {
		name := fmt.Sprintf("pkg%d", i/4)
		rec, err := compactJSON(map[string]any{
			"build": "py312h1234567_0", "build_number": 0, "name": name, "version": fmt.Sprintf("1.%d.0", i%4),
			"depends": []string{"libgcc >=13", "libstdcxx >=13", "python >=3.12,<3.13.0a0", "python_abi 3.12.* *_cp312", "numpy >=1.26"},
			"license": "BSD-3-Clause", "license_family": "BSD", "subdir": "linux-64", "timestamp": 1700000000000 + i,
			"md5": fmt.Sprintf("%032x", i), "sha256": fmt.Sprintf("%064x", i), "size": 123456 + i,
			"constrains": []string{"pyarrow >=14"}, "track_features": "",
		})
		if err != nil {
			tb.Fatal(err)
		}
		st.put(fmt.Sprintf("%s-1.%d.0-py312h1234567_0.conda", name, i%4), rec)
	}
	dir := filepath.Join(root, "acme", "linux-64")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "repodata.json"), st.render(nil), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkAddConda100k adds one package to a subdir of 100,000
// records: "warm" with the subdir's state in memory (every update after
// the first), "cold" from a new Publisher that must parse repodata.json.
// Each op writes the file and all indexes, fsyncs included.
func BenchmarkAddConda100k(b *testing.B) {
	const records = 100_000
	for _, mode := range []string{"warm", "cold"} {
		b.Run(mode, func(b *testing.B) {
			tp := newTestPublisher(b)
			bigRepodata(b, tp.root, records)
			pkgs := make([][]byte, b.N)
			names := make([]string, b.N)
			for i := range b.N {
				c := indextest.Conda{Name: "new", Version: fmt.Sprintf("%d", i), Build: "0", Subdir: "linux-64"}
				pkgs[i], names[i] = indextest.CondaPackage(b, c), c.FileName()
			}
			if mode == "warm" {
				if _, err := tp.loadState(subdirIndex{"acme", MainLabel, "linux-64"}); err != nil {
					b.Fatal(err)
				}
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				p := tp.Publisher
				if mode == "cold" {
					b.StopTimer()
					dir, _ := OpenDir(tp.root)
					p, _ = NewPublisher(dir, Options{})
					b.StartTimer()
				}
				_, err := p.AddConda(context.Background(), CondaAdd{Channel: "acme", File: names[i]}, bytes.NewReader(pkgs[i]), int64(len(pkgs[i])))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			var r repodata
			if err := json.Unmarshal(tp.read("acme/linux-64/repodata.json"), &r); err != nil || len(r.files()) != records+b.N {
				b.Fatalf("lists %d files, want %d: %v", len(r.files()), records+b.N, err)
			}
		})
	}
}

// cpuTime is the CPU time (user and system) the process used so far:
// on a shared machine, wall time per op depends on the load, CPU time
// much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
