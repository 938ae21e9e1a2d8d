package snowflake

import (
	sf "github.com/snowflakedb/gosnowflake"
)

// Connection is how to log in to Snowflake, as this source does: the same fields, the same
// authenticators (key pair, OAuth, password) and the same checks. Other Snowflake clients of
// brazesync (the destination's warehouse state) take it in their spec and call DriverConfig.
// Every field is optional to the JSON schema, as the spec that embeds it may not need a
// connection; Validate says what is missing.
type Connection struct {
	// Account identifier, e.g. "xy12345.eu-west-1" or "myorg-myaccount".
	Account string `json:"account,omitempty"`
	// User to log in as (a Snowflake service user for key-pair auth).
	User string `json:"user,omitempty"`
	// Authenticator: "snowflake_jwt" (key pair), "oauth" or "snowflake" (password). Default:
	// inferred from which credential is set.
	Authenticator string `json:"authenticator,omitempty" jsonschema:"enum=snowflake_jwt,enum=oauth,enum=snowflake"`
	// PEM file with the RSA private key (PKCS#8 or PKCS#1, unencrypted) for key-pair authentication.
	PrivateKeyPath string `json:"private_key_path,omitempty"`
	// The same PEM text inline (e.g. "${SNOWFLAKE_PRIVATE_KEY}").
	PrivateKey string `json:"private_key,omitempty"`
	// OAuth access token.
	Token string `json:"token,omitempty"`
	// Password for password authentication (not allowed for service users).
	Password string `json:"password,omitempty"`
	// Warehouse that runs brazesync's statements.
	Warehouse string `json:"warehouse,omitempty"`
	// Role to use (default: the user's default role).
	Role string `json:"role,omitempty"`
	// Bounds login, retries included, in seconds (default 60).
	LoginTimeoutSeconds int `json:"login_timeout_seconds,omitempty" jsonschema:"minimum=1"`
	// Host, Port and Protocol override the endpoint (e.g. the emulator: "127.0.0.1", 8080,
	// "http"). Default: <account>.snowflakecomputing.com:443 over https.
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty" jsonschema:"minimum=1,maximum=65535"`
	Protocol string `json:"protocol,omitempty" jsonschema:"enum=http,enum=https"`
}

// connectionOnly stands in for the queries a source spec must have, so Connection is checked by
// the source's own Spec.Validate and nothing else.
var connectionOnly = []Query{{Name: "connection", SQL: "SELECT 1"}}

func (c Connection) spec() Spec {
	return Spec{Account: c.Account, User: c.User, Authenticator: c.Authenticator, PrivateKeyPath: c.PrivateKeyPath,
		PrivateKey: c.PrivateKey, Token: c.Token, Password: c.Password, Warehouse: c.Warehouse, Role: c.Role,
		LoginTimeoutSeconds: c.LoginTimeoutSeconds, Host: c.Host, Port: c.Port, Protocol: c.Protocol,
		Queries: connectionOnly}
}

// Validate checks the connection settings without any I/O; errors name the field.
func (c Connection) Validate() error {
	s := c.spec()
	s.SetDefaults()
	return s.Validate()
}

// DriverConfig checks the connection settings and builds the gosnowflake config the source would
// log in with (the private key is read here). Errors never include credentials.
func DriverConfig(c Connection) (*sf.Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := c.spec()
	s.SetDefaults()
	return (&Client{spec: s}).driverConfig()
}

// ExplainError turns a driver error met while doing something with c into a message that says
// what to fix, as the source explains its own (refused login, missing role or warehouse, …).
func ExplainError(c Connection, doing string, err error) error {
	s := c.spec()
	s.SetDefaults()
	return (&Client{spec: s}).explain(doing, "", err)
}
