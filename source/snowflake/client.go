package snowflake

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"
	sf "github.com/snowflakedb/gosnowflake"
)

// Name is the plugin's name; Version is stamped at build time.
const Name = "snowflake"

// Version of the plugin.
var Version = "development"

var errInvalidSpec = errors.New("invalid snowflake spec")

// Client is the source client: one Snowflake connection pool and the
// tables its queries define.
type Client struct {
	plugin.UnimplementedDestination
	logger zerolog.Logger
	spec   Spec
	db     *sql.DB
	tables []*queryTable
}

var _ plugin.Client = (*Client)(nil)

// NewPlugin returns the snowflake-source plugin.
func NewPlugin() *plugin.Plugin {
	return plugin.NewPlugin(Name, Version, New,
		plugin.WithKind("source"), plugin.WithTeam("brazesync"), plugin.WithJSONSchema(JSONSchema))
}

// New validates the spec, logs in, checks the warehouse and describes
// every query. With opts.NoConnection it returns a client with no tables
// and does no I/O.
func New(ctx context.Context, logger zerolog.Logger, specBytes []byte, opts plugin.NewClientOptions) (plugin.Client, error) {
	c := &Client{logger: logger.With().Str("module", "snowflake-source").Logger()}
	if opts.NoConnection {
		return c, nil
	}
	if err := json.Unmarshal(specBytes, &c.spec); err != nil {
		return nil, errors.Join(errInvalidSpec, fmt.Errorf("decoding spec: %w", err))
	}
	c.spec.SetDefaults()
	if err := c.spec.Validate(); err != nil {
		return nil, errors.Join(errInvalidSpec, err)
	}
	cfg, err := c.driverConfig()
	if err != nil {
		return nil, errors.Join(errInvalidSpec, err)
	}
	c.db = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	c.db.SetMaxOpenConns(c.spec.FetchConcurrency + 1)
	if err := c.connect(ctx); err != nil {
		_ = c.db.Close()
		return nil, err
	}
	for _, q := range c.spec.Queries {
		t, err := c.describe(ctx, q)
		if err != nil {
			_ = c.db.Close()
			return nil, err
		}
		c.tables = append(c.tables, t)
	}
	return c, nil
}

// driverConfig builds the gosnowflake config. Params must be non-nil or
// the driver panics while applying session parameters.
func (c *Client) driverConfig() (*sf.Config, error) {
	s := c.spec
	cfg := &sf.Config{
		Account: s.Account, User: s.User, Warehouse: s.Warehouse, Role: s.Role,
		Database: s.Database, Schema: s.Schema, Host: s.Host, Port: s.Port, Protocol: s.Protocol,
		Params:           map[string]*string{},
		LoginTimeout:     time.Duration(s.LoginTimeoutSeconds) * time.Second,
		JWTExpireTimeout: time.Minute,
		Application:      "brazesync",
		DisableTelemetry: true,
	}
	switch s.Authenticator {
	case authJWT:
		key, err := s.privateKey()
		if err != nil {
			return nil, err
		}
		cfg.Authenticator, cfg.PrivateKey = sf.AuthTypeJwt, key
	case authOAuth:
		cfg.Authenticator, cfg.Token = sf.AuthTypeOAuth, s.Token
	default:
		cfg.Authenticator, cfg.Password = sf.AuthTypeSnowflake, s.Password
	}
	return cfg, nil
}

// connect logs in and checks that the session really got the warehouse:
// Snowflake accepts a login naming a warehouse that does not exist (or
// that the role cannot use) and only fails later, at the first query.
func (c *Client) connect(ctx context.Context) error {
	var wh sql.NullString
	err := c.db.QueryRowContext(ctx, "SELECT CURRENT_WAREHOUSE()").Scan(&wh)
	if err != nil {
		return c.explain("connecting", "", err)
	}
	if !wh.Valid || wh.String == "" {
		return fmt.Errorf("warehouse %q does not exist or role %q may not use it: Snowflake started the session without a warehouse (GRANT USAGE ON WAREHOUSE %s TO ROLE %s)",
			c.spec.Warehouse, c.roleName(), c.spec.Warehouse, c.roleName())
	}
	return nil
}

func (c *Client) roleName() string {
	if c.spec.Role == "" {
		return "(default role)"
	}
	return c.spec.Role
}

// Tables returns one table per query.
func (c *Client) Tables(_ context.Context, opts plugin.TableOptions) (schema.Tables, error) {
	if c.db == nil {
		return schema.Tables{}, nil // no connection (doc, package): the tables come from the queries
	}
	all := make(schema.Tables, 0, len(c.tables))
	for _, t := range c.tables {
		all = append(all, t.table)
	}
	return all.FilterDfs(opts.Tables, opts.SkipTables, opts.SkipDependentTables)
}

// Close closes the session (the driver POSTs /session?delete=true).
func (c *Client) Close(context.Context) error {
	if c.db == nil {
		return nil
	}
	return c.db.Close()
}

// explain turns a driver error into a message that says what to fix,
// keeping Snowflake's code and query id. It never includes credentials.
func (c *Client) explain(doing, query string, err error) error {
	var se *sf.SnowflakeError
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s%s: cancelled: %w", doing, query, err)
	}
	if !errors.As(err, &se) {
		return fmt.Errorf("%s%s: %w", doing, query, err)
	}
	qid := ""
	if se.QueryID != "" {
		qid = " (query id " + se.QueryID + ")"
	}
	switch se.Number {
	case 390100:
		return fmt.Errorf("%s: Snowflake refused the login of user %q on account %q: incorrect user name or password (%d): %w", doing, c.spec.User, c.spec.Account, se.Number, err)
	case 390144:
		return fmt.Errorf("%s: Snowflake refused the key-pair login of user %q: the JWT signed with private_key does not match the user's RSA_PUBLIC_KEY (%d): %w", doing, c.spec.User, se.Number, err)
	case 390303, 390318:
		return fmt.Errorf("%s: Snowflake refused the OAuth token for user %q: invalid or expired access token (%d): %w", doing, c.spec.User, se.Number, err)
	case 390189:
		return fmt.Errorf("%s: role %q does not exist or is not granted to user %q (%d): %w", doing, c.spec.Role, c.spec.User, se.Number, err)
	case 606:
		return fmt.Errorf("%s%s: no usable warehouse: %q does not exist or role %s may not use it%s: %w", doing, query, c.spec.Warehouse, c.roleName(), qid, err)
	case 604:
		return fmt.Errorf("%s%s: cancelled%s: %w", doing, query, qid, err)
	}
	if se.SQLState == "42000" || se.SQLState == "42S02" || se.Number == 2003 || se.Number == 904 || se.Number == 1003 {
		return fmt.Errorf("%s%s: SQL compilation error%s: %w", doing, query, qid, err)
	}
	return fmt.Errorf("%s%s%s: %w", doing, query, qid, err)
}
