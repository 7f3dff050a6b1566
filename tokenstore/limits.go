package tokenstore

// Size limits of what the store keeps, so that no caller can grow the
// database, the access view or a listing without bound. Names have their
// own, smaller bounds (accounts and groups 64, packages 128, tokens 100
// characters; see their Validate functions).
const (
	// MaxTextLen bounds free-text fields: a token's hostname and note_url,
	// a package's summary, a client address.
	MaxTextLen = 400
	// MaxEmailLen is the longest address SMTP can deliver to (RFC 5321).
	MaxEmailLen = 254
	// MaxListLen bounds the lists kept in one record: a group's members
	// and packages, a package's collaborators.
	MaxListLen = 1000
	// MaxPackagesPerChannel bounds the package records (one per name and
	// kind) a channel registers: every gateway keeps them all in memory.
	MaxPackagesPerChannel = 10000
	// MaxGroupsPerOrg bounds an organization's groups.
	MaxGroupsPerOrg = 1000
	// DefaultMaxTokensPerAccount is Options.MaxTokensPerAccount's default.
	DefaultMaxTokensPerAccount = 1000
)

// checkLen refuses a value longer than max bytes, naming the field and
// its limit in the one-line message.
func checkLen(field, value string, max int) error {
	if len(value) > max {
		return invalidf("%s may be at most %d bytes, not %d", field, max, len(value))
	}
	return nil
}

// checkListLen refuses adding to a list that already holds max entries.
func checkListLen(what string, n, max int) error {
	if n >= max {
		return invalidf("%s may hold at most %d entries", what, max)
	}
	return nil
}

// countUpTo counts the keys of bucket that start with prefix, reading at
// most limit of them.
func countUpTo(tx Tx, bucket string, prefix []byte, limit int) (int, error) {
	n := 0
	err := tx.ForEach(bucket, prefix, func(_, _ []byte) error {
		if n++; n >= limit {
			return errStop
		}
		return nil
	})
	return n, err
}

// checkRoom refuses one more record under prefix when limit are there.
func checkRoom(tx Tx, bucket string, prefix []byte, limit int, what string) error {
	n, err := countUpTo(tx, bucket, prefix, limit)
	if err != nil {
		return err
	}
	return checkListLen(what, n, limit)
}
