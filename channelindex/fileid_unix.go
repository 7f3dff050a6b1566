//go:build unix

package channelindex

import (
	"io/fs"
	"strconv"
	"syscall"
)

// fileID tells versions of a stored file apart beyond size and
// modification time: its inode and its change time. Every atomic
// replacement gives a new inode, but a freed inode number is soon reused,
// so the change time — set by the kernel on every rename or attribute
// change, never by a writer — is part of it too. It is "" when the file
// system gives neither (the caller then trusts no cached copy).
func fileID(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(st.Ino), 10) + ":" +
		strconv.FormatInt(int64(st.Ctim.Sec), 10) + "." + strconv.FormatInt(int64(st.Ctim.Nsec), 10)
}
