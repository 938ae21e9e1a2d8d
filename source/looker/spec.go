package looker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
)

// Limit is a Looker row limit. It is a string on the wire ("-1" = all
// results) but the spec also accepts a YAML/JSON number.
type Limit string

// UnmarshalJSON accepts "500", 500, "-1" or -1.
func (l *Limit) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*l = Limit(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("limit must be a number or a string")
	}
	*l = Limit(s)
	return nil
}

func (l Limit) valid() bool {
	if l == "" {
		return true
	}
	n, err := strconv.Atoi(string(l))
	return err == nil && (n == -1 || n > 0)
}

// Spec is the looker-source plugin spec (the `spec:` block of a source).
type Spec struct {
	// BaseURL is the Looker API host, e.g. https://acme.looker.com:19999
	// (the /api/4.0 suffix is added).
	BaseURL string `json:"base_url"`
	// ClientID is the API3 client id.
	ClientID string `json:"client_id"`
	// ClientSecret is the API3 client secret; prefer ClientSecretEnv or the
	// CLI's ${ENV} expansion over writing it into the file.
	ClientSecret string `json:"client_secret,omitempty"`
	// ClientSecretEnv names an environment variable holding the secret.
	ClientSecretEnv string `json:"client_secret_env,omitempty"`
	// Tables lists the Looks and queries to sync, one table each.
	Tables []TableSpec `json:"tables"`
	// RowsPerRecord caps rows per Arrow record (default and max 8192).
	RowsPerRecord int `json:"rows_per_record,omitempty"`
	// MaxRetries bounds retries on 429/5xx answers (default 5).
	MaxRetries int `json:"max_retries,omitempty"`
}

// TableSpec is one synced table: a saved Look or an inline query.
type TableSpec struct {
	// Name is the table name (lower-case letters, digits, underscores).
	Name string `json:"name"`
	// LookID runs a saved Look.
	LookID int `json:"look_id,omitempty"`
	// Limit overrides the Look's saved limit; "-1" = all results.
	Limit Limit `json:"limit,omitempty"`
	// Query runs an inline query instead of a Look.
	Query *SpecQuery `json:"query,omitempty"`
}

// SpecQuery is an inline query as written in the spec.
type SpecQuery struct {
	Model         string            `json:"model"`
	View          string            `json:"view"`
	Fields        []string          `json:"fields"`
	Pivots        []string          `json:"pivots,omitempty"`
	Filters       map[string]string `json:"filters,omitempty"`
	Sorts         []string          `json:"sorts,omitempty"`
	Limit         Limit             `json:"limit,omitempty"`
	QueryTimezone string            `json:"query_timezone,omitempty"`
}

func (q SpecQuery) apiQuery() Query {
	return Query{Model: q.Model, View: q.View, Fields: q.Fields, Pivots: q.Pivots, Filters: q.Filters,
		Sorts: q.Sorts, Limit: string(q.Limit), QueryTimezone: q.QueryTimezone}
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// SetDefaults fills the optional fields with the values the client and the record writer use when
// they are unset, so the spec's JSON schema states them.
func (s *Spec) SetDefaults() {
	if s.RowsPerRecord == 0 {
		s.RowsPerRecord = MaxRecordRows
	}
	if s.MaxRetries == 0 {
		s.MaxRetries = defaultMaxRetries
	}
}

// secret resolves the client secret from the spec or the named env var.
func (s *Spec) secret() (string, error) {
	if s.ClientSecretEnv != "" {
		v := os.Getenv(s.ClientSecretEnv)
		if v == "" {
			return "", fmt.Errorf("environment variable %s (client_secret_env) is empty", s.ClientSecretEnv)
		}
		return v, nil
	}
	return s.ClientSecret, nil
}

// Validate checks the spec before any I/O.
func (s *Spec) Validate() error {
	if s.BaseURL == "" || s.ClientID == "" {
		return errors.New("base_url and client_id are required")
	}
	if s.ClientSecret == "" && s.ClientSecretEnv == "" {
		return errors.New("client_secret or client_secret_env is required")
	}
	if len(s.Tables) == 0 {
		return errors.New("at least one table is required")
	}
	if s.RowsPerRecord < 0 || s.RowsPerRecord > MaxRecordRows {
		return fmt.Errorf("rows_per_record must be between 1 and %d", MaxRecordRows)
	}
	seen := map[string]bool{}
	for i, t := range s.Tables {
		if err := t.validate(); err != nil {
			return fmt.Errorf("tables[%d]: %w", i, err)
		}
		if seen[t.Name] {
			return fmt.Errorf("tables[%d]: duplicate name %q", i, t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

func (t TableSpec) validate() error {
	if !tableName.MatchString(t.Name) {
		return errors.New("name must match [a-z_][a-z0-9_]*")
	}
	switch {
	case t.LookID > 0 && t.Query != nil:
		return errors.New("set look_id or query, not both")
	case t.LookID > 0:
		if !t.Limit.valid() {
			return errors.New("limit must be -1 or a positive number")
		}
	case t.Query != nil:
		q := t.Query
		if q.Model == "" || q.View == "" || len(q.Fields) == 0 {
			return errors.New("query needs model, view and fields")
		}
		if !q.Limit.valid() || t.Limit != "" {
			return errors.New("query limit must be -1 or a positive number (set it inside query)")
		}
	default:
		return errors.New("look_id or query is required")
	}
	return nil
}
