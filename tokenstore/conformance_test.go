package tokenstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/channelgate/channelgate/tokenstore"
	"github.com/channelgate/channelgate/tokenstore/backendtest"
)

// TestBoltConformance runs the backend conformance suite on bbolt.
func TestBoltConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) tokenstore.Backend {
		be, err := tokenstore.OpenBolt(filepath.Join(t.TempDir(), "store.db"), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return be
	}, nil)
}
