// Command dbstats prints where a channelgate bbolt file's space goes:
// per bucket, keys, logical bytes (keys + values) and the pages the
// B+tree occupies, and the file's free pages.
//
//	go run ./bench/dbstats bench/.data/store-1000000.db
package main

import (
	"fmt"
	"log"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: dbstats <file.db>")
	}
	fi, err := os.Stat(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	db, err := bolt.Open(os.Args[1], 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		ps := int64(tx.DB().Info().PageSize)
		fmt.Printf("file %.1f MiB, page size %d, tx size %.1f MiB\n", float64(fi.Size())/(1<<20), ps, float64(tx.Size())/(1<<20))
		fmt.Printf("%-16s %10s %12s %12s %12s %8s\n", "bucket", "keys", "key+val MiB", "alloc MiB", "in-use MiB", "fill")
		var alloc int64
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			var kv int64
			if err := b.ForEach(func(k, v []byte) error { kv += int64(len(k) + len(v)); return nil }); err != nil {
				return err
			}
			st := b.Stats()
			a := int64(st.BranchAlloc + st.LeafAlloc)
			in := int64(st.BranchInuse + st.LeafInuse)
			alloc += a
			fill := 0.0
			if a > 0 {
				fill = 100 * float64(in) / float64(a)
			}
			fmt.Printf("%-16s %10d %12.1f %12.1f %12.1f %7.0f%%\n", name, st.KeyN, float64(kv)/(1<<20), float64(a)/(1<<20), float64(in)/(1<<20), fill)
			return nil
		})
		st := db.Stats()
		fmt.Printf("buckets total %.1f MiB allocated; free pages %d (%.1f MiB), pending %d\n", float64(alloc)/(1<<20),
			st.FreePageN, float64(int64(st.FreePageN)*ps)/(1<<20), st.PendingPageN)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}
