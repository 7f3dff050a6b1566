package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
)

var benchActor = tokenstore.Actor{Name: "bench"}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// writeStorage writes the files every variant serves: a 4 KiB .conda of
// the private package acme/secret and a repodata.json of 1.2 MiB.
func writeStorage(root string) error {
	dir := filepath.Join(root, "acme", "noarch")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pkg := make([]byte, 4096)
	for i := range pkg {
		pkg[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(filepath.Join(dir, "secret-1.0-0.conda"), pkg, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "repodata.json"), repodata(1<<20), 0o644)
}

// repodata is a conda index of at least size bytes.
func repodata(size int) []byte {
	type rec struct {
		Build       string   `json:"build"`
		BuildNumber int      `json:"build_number"`
		Depends     []string `json:"depends"`
		License     string   `json:"license"`
		MD5         string   `json:"md5"`
		Name        string   `json:"name"`
		SHA256      string   `json:"sha256"`
		Size        int      `json:"size"`
		Subdir      string   `json:"subdir"`
		Timestamp   int64    `json:"timestamp"`
		Version     string   `json:"version"`
	}
	pkgs := map[string]rec{}
	n := 0
	for i := 0; n < size; i++ {
		name := fmt.Sprintf("pkg%05d", i/4)
		version := fmt.Sprintf("1.%d.0", i%4)
		r := rec{Build: "py_0", Depends: []string{"python >=3.9", "numpy >=1.21"}, License: "BSD-3-Clause",
			MD5: fmt.Sprintf("%032x", i), Name: name, SHA256: fmt.Sprintf("%064x", i*7919), Size: 4096 + i,
			Subdir: "noarch", Timestamp: 1700000000000 + int64(i), Version: version}
		pkgs[name+"-"+version+"-py_0.conda"] = r
		b, _ := json.Marshal(r)
		n += len(b) + len(name) + 20
	}
	out, _ := json.MarshalIndent(map[string]any{"info": map[string]string{"subdir": "noarch"},
		"packages": map[string]rec{}, "packages.conda": pkgs, "repodata_version": 1}, "", " ")
	return out
}

// seedOrg creates user alice, her organization acme and acme's private
// conda package secret.
func seedOrg(s *tokenstore.Store) error {
	if _, err := s.CreateUser(benchActor, tokenstore.NewUser{Name: "alice", Email: "alice@example.com",
		Password: "alice-password", PasswordConfirmation: "alice-password", AcceptTerms: true}); err != nil {
		return err
	}
	if _, err := s.CreateOrg(benchActor, "acme", "alice"); err != nil {
		return err
	}
	_, err := s.PutPackage(benchActor, "acme", tokenstore.Conda, "secret", false, "")
	return err
}

// smallStore is the store of variants b and f: the organization and one
// conda:download token of it.
func smallStore(path string) (secret, db string, err error) {
	s, err := tokenstore.OpenFile(path, tokenstore.Options{})
	if err != nil {
		return "", "", err
	}
	defer s.Close()
	if err := seedOrg(s); err != nil {
		return "", "", err
	}
	secret, _, err = s.CreateToken(benchActor, tokenstore.TokenSpec{Owner: "acme", Name: "ci", Scopes: []string{"conda:download"}})
	return secret, path, err
}

// bigStore is the cached store with many tokens, all conda:download
// tokens of organization acme, their secrets one a line in tokens.
type bigStore struct {
	db, tokens string
	meta       bigMeta
}

type bigMeta struct {
	Tokens       int     `json:"tokens"`
	Batch        int     `json:"batch"`
	CreateSecs   float64 `json:"create_seconds"` // CreateTokens calls only
	TotalSecs    float64 `json:"total_seconds"`
	SizeBytes    int64   `json:"size_bytes"`
	Built        string  `json:"built"`
	GoVersion    string  `json:"go"`
	CreatedByCmd string  `json:"created_by"`
}

const tokenBatch = 10_000

// prepareBigStore returns the cached store of n tokens in dir, building
// it (through Store.CreateTokens, tokenBatch per transaction) when absent.
func prepareBigStore(dir string, n int) (bigStore, error) {
	b := bigStore{
		db:     filepath.Join(dir, fmt.Sprintf("store-%d.db", n)),
		tokens: filepath.Join(dir, fmt.Sprintf("tokens-%d.txt", n)),
	}
	metaPath := filepath.Join(dir, fmt.Sprintf("store-%d.json", n))
	if raw, err := os.ReadFile(metaPath); err == nil && json.Unmarshal(raw, &b.meta) == nil && b.meta.Tokens == n {
		_, e1 := os.Stat(b.db)
		_, e2 := os.Stat(b.tokens)
		if e1 == nil && e2 == nil {
			log.Printf("reusing %s (%d tokens, created in %.1fs)", b.db, n, b.meta.CreateSecs)
			return b, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return b, err
	}
	log.Printf("building %s: %d tokens, %d per CreateTokens batch", b.db, n, tokenBatch)
	_ = os.Remove(b.db)
	_ = os.Remove(metaPath)
	start := time.Now()
	// Millions of tokens for one organization: no per-account cap.
	s, err := tokenstore.OpenFile(b.db, tokenstore.Options{MaxTokensPerAccount: -1})
	if err != nil {
		return b, err
	}
	defer s.Close()
	if err := seedOrg(s); err != nil {
		return b, err
	}
	tf, err := os.Create(b.tokens + ".tmp")
	if err != nil {
		return b, err
	}
	defer tf.Close()
	out := bufio.NewWriter(tf)
	specs := make([]tokenstore.TokenSpec, tokenBatch)
	var createTime time.Duration
	for done := 0; done < n; {
		m := min(tokenBatch, n-done)
		for j := range m {
			specs[j] = tokenstore.TokenSpec{Owner: "acme", Name: fmt.Sprintf("t%d", done+j), Scopes: []string{"conda:download"}}
		}
		t0 := time.Now()
		secrets, err := s.CreateTokens(benchActor, specs[:m])
		createTime += time.Since(t0)
		if err != nil {
			return b, err
		}
		for _, sec := range secrets {
			out.WriteString(sec)
			out.WriteByte('\n')
		}
		done += m
		if done%100_000 == 0 {
			log.Printf("  %d tokens, %v", done, time.Since(start).Round(time.Second))
		}
	}
	if err := out.Flush(); err != nil {
		return b, err
	}
	if err := tf.Close(); err != nil {
		return b, err
	}
	if err := s.Close(); err != nil {
		return b, err
	}
	total := time.Since(start)
	if err := os.Rename(b.tokens+".tmp", b.tokens); err != nil {
		return b, err
	}
	fi, err := os.Stat(b.db)
	if err != nil {
		return b, err
	}
	b.meta = bigMeta{Tokens: n, Batch: tokenBatch, CreateSecs: createTime.Seconds(), TotalSecs: total.Seconds(),
		SizeBytes: fi.Size(), Built: time.Now().UTC().Format(time.RFC3339), GoVersion: goVersion(),
		CreatedByCmd: "go run ./bench/load"}
	raw, _ := json.MarshalIndent(b.meta, "", "  ")
	log.Printf("built %d tokens: CreateTokens %.1fs, total %.1fs, %d MiB", n, createTime.Seconds(), total.Seconds(), fi.Size()>>20)
	return b, os.WriteFile(metaPath, raw, 0o644)
}

// garbageToken is a well-formed token (prefix, alphabet, length and
// checksum right) that no store holds: it passes ParseToken and costs a
// cache lookup and, past the negative cache, a bbolt read.
func garbageToken(rng *rand.Rand) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	buf := []byte(tokenstore.TokenPrefix)
	for range 43 {
		buf = append(buf, alphabet[rng.IntN(62)])
	}
	sum := crc32.ChecksumIEEE(buf)
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = alphabet[sum%62]
		sum /= 62
	}
	return string(append(buf, digits[:]...))
}

// writeGarbageTokens writes n unknown tokens, well-formed or (kind
// "malformed") with a wrong checksum.
func writeGarbageTokens(path string, n int, kind string) error {
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	for range n {
		t := garbageToken(rng)
		if kind == "malformed" {
			last := byte('0')
			if t[len(t)-1] == '0' {
				last = '1'
			}
			t = t[:len(t)-1] + string(last)
		}
		if _, err := tokenstore.ParseToken(t); (err == nil) != (kind != "malformed") {
			return fmt.Errorf("generated %s token: ParseToken says %v", kind, err)
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
