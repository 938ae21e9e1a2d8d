package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// formatVersion is the layout of a state folder (keys and records, codec.go). A folder with a
// higher one was written by a newer brazesync, which this one must not read or change.
const formatVersion = 1

// Files of a state folder besides the store's own.
const (
	markerFile = "brazesync-state.json" // names the folder a state folder, with its format
	lockFile   = "brazesync-state.lock" // the run holding the folder
)

// marker is the content of markerFile.
type marker struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	// Store is set once the store exists: a folder whose marker has it but whose store files are
	// gone was damaged, not left half-made by a creation that stopped.
	Store bool `json:"store"`
}

// Holder is the run holding a state folder, as written in its lock file.
type Holder struct {
	RunID string    `json:"run_id"`
	PID   int       `json:"pid"`
	Host  string    `json:"host,omitempty"`
	Since time.Time `json:"since"`
}

// LockedError is returned by Open when another run holds the folder.
type LockedError struct {
	Dir    string
	Holder Holder // zero when the holder could not be read
}

func (e *LockedError) Error() string {
	h := e.Holder
	who := "another run"
	if h.RunID != "" || h.PID != 0 {
		who = fmt.Sprintf("run %s (pid %d", h.RunID, h.PID)
		if h.Host != "" {
			who += " on " + h.Host
		}
		if !h.Since.IsZero() {
			who += " since " + h.Since.UTC().Format(time.RFC3339)
		}
		who += ")"
	}
	return fmt.Sprintf("state_dir %s is in use by %s: two runs on one state folder would each send what the other "+
		"already sent; wait for it to end, or give this run its own state_dir", e.Dir, who)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// folderLock is the held lock of a state folder.
type folderLock struct{ f *os.File }

// lockFolder takes the folder's lock for holder, or returns a *LockedError naming the run that has it.
func lockFolder(dir string, h Holder) (*folderLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the state folder's lock: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking state_dir %s: %w", dir, err)
	}
	if held {
		le := &LockedError{Dir: dir}
		if b, err := os.ReadFile(f.Name()); err == nil {
			_ = json.Unmarshal(b, &le.Holder)
		}
		f.Close()
		return nil, le
	}
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("writing the state folder's lock: %w", err)
		}
	}
	return &folderLock{f: f}, nil
}

// release empties the lock file (so a reader never names a finished run) and unlocks it.
func (l *folderLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}

// readMarker reads the folder's marker; ok is false when there is none.
func readMarker(dir string) (m marker, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, markerFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("reading %s: %w", markerFile, err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Format < 1 {
		return m, true, corrupt(dir, fmt.Errorf("%s is not readable", markerFile))
	}
	return m, true, nil
}

// writeMarker writes the marker through a temp file and a rename, so it is whole or absent.
func writeMarker(dir string, m marker) error {
	b, _ := json.Marshal(m)
	tmp := filepath.Join(dir, markerFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", markerFile, err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, markerFile)); err != nil {
		return fmt.Errorf("writing %s: %w", markerFile, err)
	}
	return syncFile(dir)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}

// onlyOwnFiles reports whether dir holds nothing but the lock and marker files (and the
// marker's temp file): a folder whose creation stopped before the store was made.
func onlyOwnFiles(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("reading state_dir: %w", err)
	}
	for _, e := range entries {
		switch e.Name() {
		case lockFile, markerFile, markerFile + ".tmp":
		default:
			return false, nil
		}
	}
	return true, nil
}

// removeStoreFiles deletes everything in dir but this package's own files.
func removeStoreFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading state_dir: %w", err)
	}
	for _, e := range entries {
		switch e.Name() {
		case lockFile, markerFile:
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("clearing a half-made state store: %w", err)
		}
	}
	return nil
}

// corrupt wraps a damage report with ErrCorrupt and the way out.
func corrupt(dir string, cause error) error {
	return fmt.Errorf("%w: state_dir %s: %w; the state cannot be trusted, so nothing was sent. To start over, "+
		"move the folder away (or run `brazesync state reset`): the next run sends every user once and rebuilds it",
		ErrCorrupt, dir, cause)
}

func newer(dir string, format int) error {
	return fmt.Errorf("%w: state_dir %s was written by a newer brazesync (state format %d; this build reads %d): "+
		"run that version, or move the folder away to rebuild the state with one full send", ErrNewerFormat, dir, format, formatVersion)
}
