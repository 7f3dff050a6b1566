package channelindex

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/channelgate/channelgate/channelindex/indextest"
)

// The crash test runs a child process (this test binary, as
// TestCrashChild) that publishes packages as fast as it can, kills it
// with SIGKILL at a random moment, and checks the storage: every index
// lists only whole files, and every add the child acknowledged is
// listed. Cycles restart the child on the same storage.
const (
	crashCycles   = 6
	crashMinDelay = 50 * time.Millisecond
	crashMaxDelay = 1500 * time.Millisecond
	crashRootEnv  = "CHANNELGATE_INDEX_CRASH_ROOT"
	crashCycleEnv = "CHANNELGATE_INDEX_CRASH_CYCLE"
)

// crashWorkers publish at once in the child.
const crashWorkers = 4

// TestCrashChild is the child: crashWorkers goroutines add conda
// packages (two labels, two subdirs, shared names) and wheels and remove
// some, printing "ack <storage path>" after each add returns,
// "unlisting <storage path>" before a removal starts and
// "rm <storage path>" after it returns.
func TestCrashChild(t *testing.T) {
	root := os.Getenv(crashRootEnv)
	if root == "" {
		return // only as the crash test's child
	}
	dir, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	report := func(verb string, paths ...string) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range paths {
			fmt.Printf("%s %s\n", verb, p)
		}
	}
	for w := range crashWorkers {
		go crashPublish(t, p, fmt.Sprintf("%s.%d", os.Getenv(crashCycleEnv), w), report)
	}
	select {} // until killed
}

// crashPublish is one worker of the child.
func crashPublish(t *testing.T, p *Publisher, id string, report func(string, ...string)) {
	ctx := context.Background()
	for i := 0; ; i++ {
		subdir := [...]string{"noarch", "linux-64"}[i%2]
		version := fmt.Sprintf("%s.%d", id, i)
		c := indextest.Conda{Name: fmt.Sprintf("pkg%d", i%5), Version: version, Build: "0", Subdir: subdir,
			Files: []indextest.File{{Name: "data.bin", Data: indextest.Payload(version, 64<<10)}}}
		b := indextest.CondaPackage(t, c)
		labels := [][]string{{"main"}, {"main", "dev"}}[i%2]
		if _, err := p.AddConda(ctx, CondaAdd{Channel: "acme", Labels: labels, File: c.FileName()}, bytes.NewReader(b), int64(len(b))); err != nil {
			panic(err)
		}
		var paths []string
		for _, l := range labels {
			paths = append(paths, labelRoot("acme", l)+"/"+subdir+"/"+c.FileName())
		}
		report("ack", paths...)
		py := indextest.Python{Project: fmt.Sprintf("proj%d", i%3), Version: version}
		whl := indextest.Wheel(t, py)
		d, err := p.AddPython(ctx, PythonAdd{Channel: "acme", File: py.WheelName()}, bytes.NewReader(whl), int64(len(whl)))
		if err != nil {
			panic(err)
		}
		report("ack", projectDir("acme", d.Project)+"/"+d.File)
		if i%4 == 3 {
			report("unlisting", paths...) // from here on it may be gone
			removed, err := p.RemoveConda(ctx, "acme", CondaQuery{File: c.FileName()})
			if err != nil {
				panic(err)
			}
			for _, f := range removed {
				report("rm", f.Path())
			}
		}
	}
}

// TestCrashDuringPublish kills a publishing child with SIGKILL, cycle
// after cycle, and checks the storage after each kill.
func TestCrashDuringPublish(t *testing.T) {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[string]bool{} // storage path → acknowledged and not removed
	for cycle := range crashCycles {
		delay := crashMinDelay + time.Duration(rng.Int64N(int64(crashMaxDelay-crashMinDelay)))
		lines := runCrashChild(t, root, cycle, delay)
		for _, l := range lines {
			verb, p, _ := strings.Cut(l, " ")
			switch verb {
			case "ack":
				acked[p] = true
			case "unlisting", "rm":
				delete(acked, p)
			}
		}
		listed := checkIndexes(t, root)
		for p := range acked {
			if !listed[p] {
				t.Errorf("cycle %d: acknowledged %s is not listed", cycle, p)
			}
		}
		t.Logf("cycle %d: killed after %v, %d acknowledged files listed, %d files listed", cycle, delay, len(acked), len(listed))
	}
	if len(acked) == 0 {
		t.Fatal("the child never acknowledged an add: the test proves nothing")
	}
}

// runCrashChild starts the child, kills it after delay (counted from its
// first acknowledgement) and returns what it printed.
func runCrashChild(t *testing.T, root string, cycle int, delay time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashRootEnv+"="+root, fmt.Sprintf("%s=%d", crashCycleEnv, cycle))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	done := make(chan struct{})
	first := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if len(lines) == 0 {
				close(first)
			}
			lines = append(lines, sc.Text())
		}
	}()
	select {
	case <-first:
	case <-time.After(time.Minute):
		t.Fatal("the child acknowledged nothing in a minute")
	}
	time.Sleep(delay)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	_ = cmd.Wait()
	return lines
}

// checkIndexes reads every index in root and fails the test for any
// listed file that is absent or not the listed bytes. It returns the
// storage paths listed.
func checkIndexes(t *testing.T, root string) map[string]bool {
	t.Helper()
	listed := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch d.Name() {
		case "repodata.json", "current_repodata.json", "repodata.json.zst":
			checkRepodata(t, root, rel, listed)
		case SimpleJSONFile:
			if path.Base(path.Dir(rel)) != "simple" {
				checkProjectPage(t, root, rel, listed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return listed
}

// checkRepodata checks one conda index.
func checkRepodata(t *testing.T, root, rel string, listed map[string]bool) {
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(rel, ".zst") {
		b = indextest.Unzstd(t, b)
	}
	var r repodata
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s is not whole JSON: %v", rel, err)
	}
	for _, sec := range []map[string]map[string]json.RawMessage{r.Packages, r.PackagesConda} {
		for file, rec := range sec {
			var want struct {
				SHA256 string `json:"sha256"`
				Size   int64  `json:"size"`
			}
			_ = json.Unmarshal(rec["sha256"], &want.SHA256)
			_ = json.Unmarshal(rec["size"], &want.Size)
			p := path.Join(path.Dir(rel), file)
			checkWhole(t, root, rel, p, want.SHA256, want.Size)
			listed[p] = true
		}
	}
}

// checkProjectPage checks one PyPI project page (its JSON form) and
// the PEP 658 metadata files it promises.
func checkProjectPage(t *testing.T, root, rel string, listed map[string]bool) {
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	var page simpleProject
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatalf("%s is not whole JSON: %v", rel, err)
	}
	for _, f := range page.Files {
		p := path.Join(path.Dir(rel), f.Filename)
		checkWhole(t, root, rel, p, f.Hashes["sha256"], f.Size)
		if h := f.metadataSHA256(); h != "" {
			checkWhole(t, root, rel, p+".metadata", h, -1)
		}
		listed[p] = true
	}
}

// checkWhole fails the test unless the file at p has the sha256 (and
// size, unless -1) that the index rel lists.
func checkWhole(t *testing.T, root, rel, p, sha string, size int64) {
	b, err := os.ReadFile(filepath.Join(root, p))
	if err != nil {
		t.Errorf("%s lists %s, which is absent: %v", rel, p, err)
		return
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != sha || size >= 0 && int64(len(b)) != size {
		t.Errorf("%s lists %s with sha256 %s size %d; the file has %x, %d bytes", rel, p, sha, size, sum, len(b))
	}
}
