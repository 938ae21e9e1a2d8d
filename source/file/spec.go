package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/brazesync/brazesync/source/sourceerr"
)

// Formats the source reads.
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
	FormatNDJSON  = "ndjson"
)

const defaultBatchRows = 8192

// Spec is the file source's `spec:` block.
type Spec struct {
	// Files to read; each becomes one table.
	Files []FileSpec `json:"files" jsonschema:"required,minItems=1"`
	// Rows per Arrow record sent downstream.
	BatchRows int `json:"batch_rows,omitempty" jsonschema:"minimum=1,maximum=65536"`
}

// FileSpec names one file.
type FileSpec struct {
	// Table name; defaults to the file's base name without its extension.
	Name string `json:"name,omitempty"`
	// Path of the file, relative to the working directory.
	Path string `json:"path" jsonschema:"required,minLength=1"`
	// csv, parquet or ndjson; inferred from the extension when empty.
	Format string `json:"format,omitempty" jsonschema:"enum=csv,enum=parquet,enum=ndjson"`
	// Looker-style tags to attach to columns, e.g. {"user_id": ["braze_id"], "fname": ["braze[first_name]"]}.
	// A column tagged braze_id is read as text.
	Tags map[string][]string `json:"tags,omitempty"`
	// CSV and NDJSON: the type of a column instead of the one inferred from the whole file: string,
	// integer, float, number, boolean, date, timestamp, or json (NDJSON). A row whose value does not
	// fit goes to the dead-letter file. Example: {"zip": "string"}.
	Types map[string]string `json:"types,omitempty"`
}

// ParseSpec decodes and validates the spec, refusing unknown fields.
func ParseSpec(b []byte) (*Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding file source spec: %w", err)
	}
	s.SetDefaults()
	var errs []error
	if len(s.Files) == 0 {
		errs = append(errs, errors.New("files: at least one file is required"))
	}
	if s.BatchRows < 1 || s.BatchRows > 65536 {
		errs = append(errs, fmt.Errorf("batch_rows: %d is outside 1..65536", s.BatchRows))
	}
	names := map[string]bool{}
	for i := range s.Files {
		f := &s.Files[i]
		if err := f.normalise(); err != nil {
			errs = append(errs, fmt.Errorf("files[%d]: %w", i, err))
			continue
		}
		if names[f.Name] {
			errs = append(errs, fmt.Errorf("files[%d]: table name %q is used twice", i, f.Name))
		}
		names[f.Name] = true
	}
	return &s, errors.Join(errs...)
}

// SetDefaults fills the unset fields that have a fixed default; a file's name and format default
// to what its path says (normalise).
func (s *Spec) SetDefaults() {
	if s.BatchRows == 0 {
		s.BatchRows = defaultBatchRows
	}
}

func (f *FileSpec) normalise() error {
	if f.Path == "" {
		return errors.New("path: required")
	}
	ext := strings.ToLower(filepath.Ext(f.Path))
	if f.Name == "" {
		f.Name = strings.TrimSuffix(filepath.Base(f.Path), filepath.Ext(f.Path))
	}
	if f.Format == "" {
		switch ext {
		case ".csv":
			f.Format = FormatCSV
		case ".parquet", ".pq":
			f.Format = FormatParquet
		case ".ndjson", ".jsonl":
			f.Format = FormatNDJSON
		default:
			return fmt.Errorf("format: cannot tell the format of %s from its extension; set format: csv|parquet|ndjson", f.Path)
		}
	}
	switch f.Format {
	case FormatCSV, FormatParquet, FormatNDJSON:
		return f.validateTypes()
	}
	return fmt.Errorf("format: %q is not one of csv, parquet, ndjson", f.Format)
}

func (f *FileSpec) validateTypes() error {
	if len(f.Types) > 0 && f.Format == FormatParquet {
		return errors.New("types: a Parquet file carries its own types")
	}
	cols := make([]string, 0, len(f.Types))
	for c := range f.Types {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		t, ok := pinnedTypes[f.Types[c]]
		switch {
		case !ok:
			return fmt.Errorf("types: column %q: %q is not one of %s", c, f.Types[c], pinnedTypeNames())
		case t == kindJSON && f.Format == FormatCSV:
			return fmt.Errorf("types: column %q: json is for NDJSON files", c)
		}
	}
	return nil
}

// configError marks a problem with the spec or the file it names: exit code 2.
func configError(err error) error { return sourceerr.Config(err) }
