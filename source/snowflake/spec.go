// Package snowflake is brazesync's Snowflake source: a CloudQuery source
// plugin whose tables are SQL queries. Each query becomes one table, typed
// by a describe-only run, and streams as Arrow batches through
// gosnowflake's Arrow batch API.
package snowflake

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Spec is the plugin's `spec:` block.
type Spec struct {
	// Account identifier, e.g. "xy12345.eu-west-1" or "myorg-myaccount".
	Account string `json:"account"`
	// User to log in as (a Snowflake service user for key-pair auth).
	User string `json:"user"`
	// Authenticator: "snowflake_jwt" (key pair), "oauth" or "snowflake"
	// (password). Default: inferred from which credential is set.
	Authenticator string `json:"authenticator,omitempty"`
	// PrivateKeyPath is a PEM file with the RSA private key (PKCS#8 or
	// PKCS#1, unencrypted) for key-pair authentication.
	PrivateKeyPath string `json:"private_key_path,omitempty"`
	// PrivateKey is the same PEM text inline (e.g. "${SNOWFLAKE_PRIVATE_KEY}").
	PrivateKey string `json:"private_key,omitempty"`
	// Token is an OAuth access token.
	Token string `json:"token,omitempty"`
	// Password for password authentication (not allowed for service users).
	Password string `json:"password,omitempty"`
	// Warehouse, Role, Database, Schema set the session context.
	Warehouse string `json:"warehouse"`
	Role      string `json:"role,omitempty"`
	Database  string `json:"database,omitempty"`
	Schema    string `json:"schema,omitempty"`
	// QueryTag is set on every query so admins can find brazesync's
	// queries in QUERY_HISTORY (default "brazesync").
	QueryTag string `json:"query_tag,omitempty"`
	// Queries: each becomes one table named Name.
	Queries []Query `json:"queries"`
	// FetchConcurrency bounds how many result chunks are downloaded at once
	// (default 4); memory holds at most this many chunks.
	FetchConcurrency int `json:"fetch_concurrency,omitempty"`
	// LoginTimeoutSeconds bounds login, retries included (default 60).
	LoginTimeoutSeconds int `json:"login_timeout_seconds,omitempty"`
	// Host, Port, Protocol override the endpoint (e.g. the emulator:
	// "127.0.0.1", 8080, "http"). Default: <account>.snowflakecomputing.com:443 over https.
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	// Where the braze destination keeps its warehouse state (its state: {backend: snowflake}), for
	// the queries with pushdown: true. It must be in the account this source logs in to.
	PushdownState *PushdownState `json:"pushdown_state,omitempty"`
}

// Query is one SQL statement whose result becomes a table.
type Query struct {
	// Name is the table name (letters, digits, underscores).
	Name string `json:"name"`
	// SQL is a single SELECT. Column names are kept as Snowflake returns
	// them: upper-case unless quoted, so AS "braze[first_name]" survives.
	SQL string `json:"sql"`
	// Return only the rows whose attributes differ from the braze destination's warehouse state,
	// compared in Snowflake, so unchanged rows never leave it (docs/state-snowflake.md).
	Pushdown bool `json:"pushdown,omitempty"`
}

// Authenticator names accepted in the spec.
const (
	authJWT      = "snowflake_jwt"
	authOAuth    = "oauth"
	authPassword = "snowflake"
)

const (
	defaultQueryTag         = "brazesync"
	defaultFetchConcurrency = 4
	defaultLoginTimeout     = 60
)

var validTableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// SetDefaults fills optional fields.
func (s *Spec) SetDefaults() {
	if s.Authenticator == "" {
		switch {
		case s.PrivateKey != "" || s.PrivateKeyPath != "":
			s.Authenticator = authJWT
		case s.Token != "":
			s.Authenticator = authOAuth
		default:
			s.Authenticator = authPassword
		}
	}
	s.Authenticator = strings.ToLower(s.Authenticator)
	if s.QueryTag == "" {
		s.QueryTag = defaultQueryTag
	}
	if s.FetchConcurrency <= 0 {
		s.FetchConcurrency = defaultFetchConcurrency
	}
	if s.LoginTimeoutSeconds <= 0 {
		s.LoginTimeoutSeconds = defaultLoginTimeout
	}
}

// Validate checks the spec without any I/O.
func (s *Spec) Validate() error {
	var errs []error
	if s.Account == "" {
		errs = append(errs, errors.New("account is required"))
	}
	if s.User == "" {
		errs = append(errs, errors.New("user is required"))
	}
	switch s.Authenticator {
	case authJWT:
		if (s.PrivateKey == "") == (s.PrivateKeyPath == "") {
			errs = append(errs, errors.New("key-pair authentication needs exactly one of private_key or private_key_path"))
		}
	case authOAuth:
		if s.Token == "" {
			errs = append(errs, errors.New("oauth authentication needs token"))
		}
	case authPassword:
		if s.Password == "" {
			errs = append(errs, errors.New("no credentials: set private_key_path (key pair), token (OAuth) or password"))
		}
	default:
		errs = append(errs, fmt.Errorf("authenticator %q is not one of snowflake_jwt, oauth, snowflake", s.Authenticator))
	}
	if s.Warehouse == "" {
		errs = append(errs, errors.New("warehouse is required"))
	}
	if s.Protocol != "" && s.Protocol != "http" && s.Protocol != "https" {
		errs = append(errs, fmt.Errorf("protocol %q is not http or https", s.Protocol))
	}
	if len(s.Queries) == 0 {
		errs = append(errs, errors.New("queries: at least one {name, sql} is required"))
	}
	seen := map[string]bool{}
	for i, q := range s.Queries {
		switch {
		case !validTableName.MatchString(q.Name):
			errs = append(errs, fmt.Errorf("queries[%d]: name %q must be letters, digits and underscores", i, q.Name))
		case seen[q.Name]:
			errs = append(errs, fmt.Errorf("queries[%d]: name %q is used twice", i, q.Name))
		}
		seen[q.Name] = true
		if strings.TrimSpace(q.SQL) == "" {
			errs = append(errs, fmt.Errorf("queries[%d] (%s): sql is empty", i, q.Name))
		}
	}
	if err := s.validatePushdown(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// privateKey loads the RSA key for key-pair auth. Errors never include
// the key material.
func (s *Spec) privateKey() (*rsa.PrivateKey, error) {
	pemText := []byte(s.PrivateKey)
	if s.PrivateKeyPath != "" {
		b, err := os.ReadFile(s.PrivateKeyPath)
		if err != nil {
			return nil, fmt.Errorf("reading private_key_path: %w", err)
		}
		pemText = b
	}
	block, _ := pem.Decode(pemText)
	if block == nil {
		return nil, errors.New("private key: no PEM block found")
	}
	if strings.Contains(block.Type, "ENCRYPTED") {
		return nil, errors.New("private key: encrypted keys are not supported; use an unencrypted PKCS#8 key kept in a secret store")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("private key: not an RSA key")
		}
		return rk, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("private key: not a PKCS#8 or PKCS#1 RSA key")
	}
	return k, nil
}
