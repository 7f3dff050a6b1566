//go:build !unix

package channelindex

import "io/fs"

// fileID is "" where inodes are unknown: cached copies of stored files
// are not trusted there.
func fileID(fs.FileInfo) string { return "" }
