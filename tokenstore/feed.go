package tokenstore

import (
	"bytes"
	"encoding/binary"
)

// changed applies one change from the backend's feed to what the store
// derives from the backend: a token record change drops that hash from the
// token cache; an account, group or package change makes the access view
// rebuild; the stored live-token count is followed; a Reset drops all of
// it. The feed delivers this process's commits before Update returns and
// other processes' commits as the backend learns of them (etcd: a watch),
// so a revocation made on any gateway reaches this one's cache.
func (s *Store) changed(c Change) {
	switch {
	case c.Reset:
		s.reset()
	case c.Bucket == bucketTokens:
		if len(c.Key) == len(Hash{}) {
			s.tokens.invalidate(hashOf(c.Key))
		}
	case c.Bucket == bucketAccounts, c.Bucket == bucketGroups, c.Bucket == bucketPackages:
		s.aclGen.Add(1)
	case c.Bucket == bucketMeta && bytes.Equal(c.Key, metaTokenCount):
		if len(c.Value) == 8 {
			s.tokenCount.Store(int64(binary.BigEndian.Uint64(c.Value)))
		}
	}
}

// reset drops every cached token and the access view, and reads the
// live-token count again: changes may have been missed.
func (s *Store) reset() {
	s.tokens.purge()
	s.aclGen.Add(1)
	_ = s.be.View(func(tx Tx) error {
		if n, ok := storedTokenCount(tx); ok {
			s.tokenCount.Store(n)
		}
		return nil
	})
}
