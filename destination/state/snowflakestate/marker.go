package snowflakestate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// markerFile, in the state folder, records how far the local copy is in step with the warehouse.
const markerFile = "brazesync-warehouse.json"

// marker is the content of markerFile.
type marker struct {
	// Source names the warehouse state the copy follows; a copy of another is rebuilt.
	Source string `json:"source"`
	// Version is the warehouse version the copy has imported.
	Version uint64 `json:"warehouse_version"`
	// Synced is a local version at or below which every record of the destination is in the
	// warehouse: Close uploads the records above it.
	Synced uint64 `json:"local_synced"`
	// Imported are the local version ranges [from, to] holding records imported from the
	// warehouse since Synced; they need no upload.
	Imported [][2]uint64 `json:"imported,omitempty"`
}

// imported reports whether local version v holds a record the warehouse gave.
func (m *marker) imported(v uint64) bool {
	for _, r := range m.Imported {
		if v > r[0] && v <= r[1] {
			return true
		}
	}
	return false
}

func readMarkerFile(dir string) (marker, bool, error) {
	var m marker
	b, err := os.ReadFile(filepath.Join(dir, markerFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("reading %s: %w", markerFile, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, false, nil // unreadable: the copy is rebuilt from the warehouse
	}
	return m, true, nil
}

// writeMarkerFile replaces the marker through a synced temporary file, so it is whole or old.
func writeMarkerFile(dir string, m marker) error {
	b, _ := json.Marshal(m)
	tmp := filepath.Join(dir, markerFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", markerFile, err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, markerFile))
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", markerFile, err)
	}
	return nil
}
