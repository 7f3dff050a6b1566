package admin_test

import (
	"fmt"
	"testing"

	"github.com/channelgate/channelgate/admin"
)

// BenchmarkUpload is anaconda upload's stage and post through the API
// (real bbolt store, real storage folder, loopback HTTP): one op stages a
// new .conda into one subdir and posts it with its grant, which redeems
// the grant, receives and hashes the file, reads the package, charges
// the plan, publishes it (file and indexes, fsynced) and audits it.
//
//	go test -run '^$' -bench Upload -benchtime 200x ./admin/
func BenchmarkUpload(b *testing.B) {
	e, _ := newPublishEnv(b, admin.Config{})
	alice := "token " + e.token("alice", "up", "conda")
	files := make([]condaFile, b.N)
	for i := range files {
		files[i] = newConda(b, fmt.Sprintf("pkg%06d", i), "1.0", "0")
	}
	b.ResetTimer()
	for i := range b.N {
		if r := e.post(b, e.stage(alice, "alice", files[i]), files[i].bytes); r.status != 201 {
			b.Fatalf("upload %d: %d %s", i, r.status, r.body)
		}
	}
}
