package channelindex

// Defaults of Limits.
const (
	DefaultMaxPackageBytes  = 4 << 30   // 4 GiB: the largest package file read
	DefaultMaxUnpackedBytes = 16 << 30  // 16 GiB: all decompressed bytes of one file
	DefaultMaxRatio         = 200       // decompressed bytes per compressed byte
	DefaultMaxEntries       = 1_000_000 // members of one archive (zip entries, tar headers)
	DefaultMaxMetadataBytes = 8 << 20   // 8 MiB: one metadata member (index.json, about.json, METADATA, PKG-INFO)
)

// ratioAllowance is decompressed bytes allowed beyond MaxRatio times
// the compressed size, so tiny archives of sparse files still pass.
const ratioAllowance = 1 << 20

// Limits bound what reading one package file may cost, so a hostile
// upload (a zip or tar bomb, millions of entries) is refused before it
// exhausts memory, disk or CPU. A zero field takes its default.
type Limits struct {
	// MaxPackageBytes is the largest file accepted. Default 4 GiB.
	MaxPackageBytes int64
	// MaxUnpackedBytes caps the bytes decompressed while checking one
	// file (every tar stream inside it, read to its end). Default 16 GiB.
	MaxUnpackedBytes int64
	// MaxRatio caps decompressed bytes at MaxRatio times the compressed
	// size plus 1 MiB: a bomb expands thousands of times, real packages
	// rarely more than 20. Default 200.
	MaxRatio int64
	// MaxEntries caps the members of one archive. Default 1,000,000.
	MaxEntries int
	// MaxMetadataBytes caps one metadata member read into memory:
	// info/index.json, info/about.json, METADATA, PKG-INFO. Default 8 MiB.
	MaxMetadataBytes int64
}

// withDefaults returns l with every zero (or negative) field set to its
// default.
func (l Limits) withDefaults() Limits {
	if l.MaxPackageBytes <= 0 {
		l.MaxPackageBytes = DefaultMaxPackageBytes
	}
	if l.MaxUnpackedBytes <= 0 {
		l.MaxUnpackedBytes = DefaultMaxUnpackedBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxMetadataBytes <= 0 {
		l.MaxMetadataBytes = DefaultMaxMetadataBytes
	}
	return l
}

// unpackBudget is what one file may decompress: the smaller of
// MaxUnpackedBytes and the ratio bound for its compressed size.
func (l Limits) unpackBudget(compressed int64) int64 {
	return min(l.MaxUnpackedBytes, l.MaxRatio*compressed+ratioAllowance)
}
