// Package privatefile creates the files brazesync leaves behind that hold user keys, attributes or
// run details (dead letters, dry-run payloads, run reports): readable by their owner only (0600),
// never written through a symlink or into the inode of a file that was already there (a link
// planted at the path cannot redirect the write), and, for a file written whole, atomically.
package privatefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Mode is the mode of every file this package creates.
const Mode fs.FileMode = 0o600

// folderMode is the mode of a folder WriteAtomic creates for its file.
const folderMode fs.FileMode = 0o700

// Create creates path for writing from scratch. Whatever is at path — an old file of any mode, a
// symlink, a hard link to another file — is removed first, never followed or truncated, and a new
// 0600 file takes its place. The file is opened with O_EXCL, which follows no symlink: one planted
// between the two steps makes Create fail instead of being written through.
func Create(path string) (*os.File, error) {
	if err := clear(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, Mode)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	return f, nil
}

// WriteAtomic writes data to path through a 0600 temporary file in the same folder, synced, then
// renamed over path: a reader sees the old file or the new one, never half of one, and a symlink at
// path is replaced, not followed. A missing folder is created (0700).
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, folderMode); err != nil {
		return fmt.Errorf("creating folder %s: %w", dir, err)
	}
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("writing %s: it is a folder", path)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // O_EXCL, mode 0600
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// clear removes what is at path, unless it is a folder; nothing there is fine.
func clear(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("creating %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("creating %s: it is a folder", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}
