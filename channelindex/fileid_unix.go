//go:build unix

package channelindex

import (
	"io/fs"
	"strconv"
	"syscall"
)

// fileID is the inode of a stored file, "" when the file system gives
// none (the caller then trusts no cached copy of the file).
func fileID(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return strconv.FormatUint(uint64(st.Ino), 10)
	}
	return ""
}
