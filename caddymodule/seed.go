package caddymodule

import (
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/channelgate/channelgate/tokenstore"
)

// seedActor is who the seed's changes are audited as: the operator, as
// if the operator had made them through the API.
var seedActor = tokenstore.Actor{Name: "operator", SiteAdmin: true}

// readSeed reads and checks the seed file ("" : no seed); an error names
// the file and the entry, and stops Caddy at start.
func readSeed(file string) (*tokenstore.Seed, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("channelgate_api seed: %v", err)
	}
	return tokenstore.ParseSeed(file, data)
}

// applySeed creates what sd lists if the store holds no account yet, and
// says in Caddy's log whether it did.
func applySeed(store *tokenstore.Store, file string, sd *tokenstore.Seed, log *zap.Logger) error {
	if sd == nil {
		return nil
	}
	seeded, err := store.ApplySeed(seedActor, sd)
	if err != nil {
		return fmt.Errorf("channelgate_api seed %s: %w", file, err)
	}
	if seeded {
		log.Info("seeded the empty store", zap.String("seed", file), zap.Int("organizations", len(sd.Organizations)))
	} else {
		log.Info("store has accounts: seed not applied", zap.String("seed", file))
	}
	return nil
}
