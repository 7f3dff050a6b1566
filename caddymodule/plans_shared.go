package caddymodule

import (
	"sync"

	"github.com/channelgate/channelgate/tokenstore"
)

// storePlans holds the plan policy the API on each store was last
// provisioned with (key: the store's key, as loginLimit), so that the
// pages on the same store show users the plans the API enforces.
var storePlans sync.Map // store key → tokenstore.Plans

// plansOf returns the current plan policy of the store at key: the API's,
// or the built-in one when no API on that store set one.
func plansOf(key string) func() tokenstore.Plans {
	return func() tokenstore.Plans {
		if p, ok := storePlans.Load(key); ok {
			return p.(tokenstore.Plans)
		}
		return tokenstore.DefaultPlans()
	}
}
