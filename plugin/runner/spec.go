// Package runner is `brazesync sync`: it reads CloudQuery sync spec files, launches each source
// through CloudQuery's own plugin protocol (so any CloudQuery source plugin works) and each Braze
// destination through hashicorp/go-plugin, pumps Arrow records between them, and writes the run report.
package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrConfig marks errors in the spec files: exit code 2, nothing was sent.
var ErrConfig = errors.New("invalid sync spec")

// Spec is every document of the spec files, as `cloudquery sync` reads them (docs/cloudquery.md, "Facts this code relies on").
type Spec struct {
	Sources      []*SourceSpec
	Destinations []*DestinationSpec
}

// SourceSpec is a `kind: source` document. Fields brazesync does not support are refused by name.
type SourceSpec struct {
	Name                string         `yaml:"name"`
	Path                string         `yaml:"path"`
	Registry            string         `yaml:"registry"`
	Version             string         `yaml:"version"`
	Tables              []string       `yaml:"tables"`
	SkipTables          []string       `yaml:"skip_tables"`
	SkipDependentTables *bool          `yaml:"skip_dependent_tables"`
	Destinations        []string       `yaml:"destinations"`
	DeterministicCQID   bool           `yaml:"deterministic_cq_id"`
	Spec                map[string]any `yaml:"spec"`
}

// DestinationSpec is a `kind: destination` document.
type DestinationSpec struct {
	Name        string         `yaml:"name"`
	Path        string         `yaml:"path"`
	Registry    string         `yaml:"registry"`
	Version     string         `yaml:"version"`
	WriteMode   string         `yaml:"write_mode"`
	MigrateMode string         `yaml:"migrate_mode"`
	PKMode      string         `yaml:"pk_mode"`
	SyncGroupID string         `yaml:"sync_group_id"`
	Spec        map[string]any `yaml:"spec"`
}

// Write modes of the CloudQuery CLI; overwrite-delete-stale is its default.
const (
	WriteModeOverwriteDeleteStale = "overwrite-delete-stale"
	WriteModeOverwrite            = "overwrite"
	WriteModeAppend               = "append"
)

// LoadSpecFiles reads and validates spec files; several files and several documents per file are
// joined, as the CloudQuery CLI does. Paths in `path:` are taken relative to the working directory,
// as the CLI takes them.
func LoadSpecFiles(paths ...string) (*Spec, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no spec file given", ErrConfig)
	}
	spec := &Spec{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: reading %s: %w", ErrConfig, p, err)
		}
		if err := spec.parse(p, raw); err != nil {
			return nil, err
		}
	}
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return spec, nil
}

type document struct {
	Kind string    `yaml:"kind"`
	Spec yaml.Node `yaml:"spec"`
}

func (s *Spec) parse(file string, raw []byte) error {
	expanded, err := expand(raw, filepath.Dir(file))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrConfig, file, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	for n := 1; ; n++ {
		var doc document
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s: document %d: %w", ErrConfig, file, n, err)
		}
		if err := s.add(doc); err != nil {
			return fmt.Errorf("%w: %s: document %d: %w", ErrConfig, file, n, err)
		}
	}
}

func (s *Spec) add(doc document) error {
	switch doc.Kind {
	case "source":
		var src SourceSpec
		if err := decodeStrict(&doc.Spec, &src, &src.Spec); err != nil {
			return fmt.Errorf("kind: source: %w", err)
		}
		s.Sources = append(s.Sources, &src)
	case "destination":
		var dst DestinationSpec
		if err := decodeStrict(&doc.Spec, &dst, &dst.Spec); err != nil {
			return fmt.Errorf("kind: destination: %w", err)
		}
		s.Destinations = append(s.Destinations, &dst)
	case "":
		return errors.New("missing kind: (source or destination)")
	default:
		return fmt.Errorf("kind %q is not supported (source or destination)", doc.Kind)
	}
	return nil
}

// decodeStrict refuses fields brazesync does not know, naming them. The plugin's own `spec:` block
// is read in one pass by specMap (specvalue.go); v sets it through its *map[string]any.
func decodeStrict(n *yaml.Node, v any, pluginSpec *map[string]any) error {
	if n.Kind == 0 {
		return errors.New("missing spec:")
	}
	specNode, rest := splitSpec(n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(rest); err != nil {
		return err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s (brazesync supports the fields documented in docs/configuration.md)", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if specNode != nil {
		m, err := specMap(specNode)
		if err != nil {
			return err
		}
		*pluginSpec = m
	}
	return nil
}

var placeholder = regexp.MustCompile(`\$\{([^}]+)\}`)

// expand replaces ${ENV} with the variable's value and ${file:path} with the file's content (relative
// paths from the spec file's folder), as the CloudQuery CLI does. A variable that is not set is an
// error rather than an empty string, so a missing secret fails loudly. Values are never logged.
func expand(raw []byte, dir string) ([]byte, error) {
	var errs []error
	out := placeholder.ReplaceAllFunc(raw, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		if path, ok := strings.CutPrefix(name, "file:"); ok {
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("${file:...}: %w", err))
				return nil
			}
			return bytes.TrimRight(b, "\r\n")
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			errs = append(errs, fmt.Errorf("${%s}: environment variable is not set", name))
			return nil
		}
		return []byte(v)
	})
	return out, errors.Join(errs...)
}

func (s *Spec) validate() error {
	var errs []error
	dests := map[string]*DestinationSpec{}
	for _, d := range s.Destinations {
		if err := d.validate(); err != nil {
			errs = append(errs, fmt.Errorf("destination %q: %w", d.Name, err))
		}
		if _, dup := dests[d.Name]; dup {
			errs = append(errs, fmt.Errorf("destination %q is defined twice", d.Name))
		}
		dests[d.Name] = d
	}
	names := map[string]bool{}
	for _, src := range s.Sources {
		if err := src.validate(dests); err != nil {
			errs = append(errs, fmt.Errorf("source %q: %w", src.Name, err))
		}
		if names[src.Name] {
			errs = append(errs, fmt.Errorf("source %q is defined twice", src.Name))
		}
		names[src.Name] = true
	}
	if len(s.Sources) == 0 {
		errs = append(errs, errors.New("no kind: source document"))
	}
	return errors.Join(errs...)
}

func (src *SourceSpec) validate(dests map[string]*DestinationSpec) error {
	var errs []error
	if src.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	errs = append(errs, checkRegistry(src.Registry, src.Path, true))
	if len(src.Tables) == 0 {
		errs = append(errs, errors.New(`tables: required (for example ["*"])`))
	}
	if len(src.Destinations) == 0 {
		errs = append(errs, errors.New("destinations: required"))
	}
	for _, d := range src.Destinations {
		if dests[d] == nil {
			errs = append(errs, fmt.Errorf("destinations: %q has no kind: destination document", d))
		}
	}
	return errors.Join(errs...)
}

func (d *DestinationSpec) validate() error {
	var errs []error
	if d.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	errs = append(errs, checkRegistry(d.Registry, d.Path, false))
	switch d.WriteMode {
	case "":
		d.WriteMode = WriteModeOverwriteDeleteStale
	case WriteModeOverwriteDeleteStale, WriteModeOverwrite, WriteModeAppend:
	default:
		errs = append(errs, fmt.Errorf("write_mode: %q is not one of overwrite-delete-stale, overwrite, append", d.WriteMode))
	}
	switch d.MigrateMode {
	case "", "safe", "forced":
	default:
		errs = append(errs, fmt.Errorf("migrate_mode: %q is not one of safe, forced", d.MigrateMode))
	}
	switch d.PKMode {
	case "", "default", "cq-id-only":
	default:
		errs = append(errs, fmt.Errorf("pk_mode: %q is not one of default, cq-id-only", d.PKMode))
	}
	if d.SyncGroupID != "" {
		errs = append(errs, errors.New("sync_group_id: not supported by brazesync (Braze has no sync groups)"))
	}
	return errors.Join(errs...)
}

// checkRegistry accepts local binaries for both kinds and grpc (an already running `serve`) for
// sources. Downloads (cloudquery, github, docker) would need the network and the CloudQuery hub.
func checkRegistry(registry, path string, source bool) error {
	switch registry {
	case "local", "":
		if path == "" {
			return errors.New("path: required (the plugin binary, e.g. bin/braze-destination)")
		}
		return nil
	case "grpc":
		if !source {
			return errors.New("registry: grpc is only supported for sources; destinations run as local go-plugin binaries")
		}
		if path == "" {
			return errors.New("path: required (host:port of a running `serve`)")
		}
		return nil
	}
	return fmt.Errorf("registry: %q is not supported by brazesync: build the plugin and use registry: local", registry)
}

// SpecJSON renders a plugin's `spec:` block as the JSON the plugin's NewClientFunc receives.
func SpecJSON(spec map[string]any) ([]byte, error) {
	if spec == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(spec)
}
