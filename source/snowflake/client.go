package snowflake

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/brazesync/brazesync/source/sourceerr"
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

	mu       sync.Mutex
	tables   []*queryTable // described by ready
	ready    bool
	readyErr error
}

var _ plugin.Client = (*Client)(nil)

// NewPlugin returns the snowflake-source plugin, with the spec's JSON schema. Table validation at
// Init is off: it would log in during Init, whose errors plugin-sdk strips of their class (an
// unreachable warehouse would read like a bad spec); Tables and Sync log in instead.
func NewPlugin() *plugin.Plugin {
	p := plugin.NewPlugin(Name, Version, New,
		plugin.WithKind("source"), plugin.WithTeam("brazesync"), plugin.WithJSONSchema(jsonSchema()))
	p.SetSkipTableValidation(true)
	return p
}

// New validates the spec and prepares the connection pool; it does no I/O, so its errors are the
// spec's. Logging in, checking the warehouse and describing the queries happen on the first
// Tables or Sync (connectOnce), whose errors carry their class (package sourceerr). With
// opts.NoConnection it returns a client with no tables.
func New(ctx context.Context, logger zerolog.Logger, specBytes []byte, opts plugin.NewClientOptions) (plugin.Client, error) {
	c := &Client{logger: logger.With().Str("module", "snowflake-source").Logger()}
	routeDriverLog(c.logger) // the driver's own log lines join ours (driverlog.go)
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
	return c, nil
}

// connectOnce logs in, checks the warehouse and describes every query, once per process; a
// failure is kept and returned again.
func (c *Client) connectOnce(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ready {
		return c.readyErr
	}
	c.ready = true
	if c.readyErr = c.connect(ctx); c.readyErr != nil {
		return c.readyErr
	}
	for _, q := range c.spec.Queries {
		t, err := c.describe(ctx, q)
		if err != nil {
			c.readyErr = err
			return err
		}
		c.tables = append(c.tables, t)
	}
	return nil
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
		return sourceerr.NotFound(fmt.Errorf("warehouse %q does not exist or role %q may not use it: Snowflake started the session without a warehouse (GRANT USAGE ON WAREHOUSE %s TO ROLE %s)",
			c.spec.Warehouse, c.roleName(), c.spec.Warehouse, c.roleName()))
	}
	return nil
}

func (c *Client) roleName() string {
	if c.spec.Role == "" {
		return "(default role)"
	}
	return c.spec.Role
}

// Tables returns one table per query, typed by a describe-only run of each.
func (c *Client) Tables(ctx context.Context, opts plugin.TableOptions) (schema.Tables, error) {
	if c.db == nil {
		return schema.Tables{}, nil // no connection (doc, package): the tables come from the queries
	}
	if err := c.connectOnce(ctx); err != nil {
		return nil, err
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

// explain turns a driver error into a message that says what to fix, keeping Snowflake's code
// and query id, and classifies it for the runner (package sourceerr): refused credentials, a
// missing role or warehouse and SQL errors are the spec's to fix; an unreachable or failing
// Snowflake, a timeout and anything unknown may pass on a later run. It never includes
// credentials.
func (c *Client) explain(doing, query string, err error) error {
	var se *sf.SnowflakeError
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s%s: cancelled: %w", doing, query, err)
	case errors.Is(err, context.DeadlineExceeded):
		return sourceerr.Timeout(fmt.Errorf("%s%s: timed out: %w", doing, query, err))
	case !errors.As(err, &se):
		return sourceerr.Retryable(fmt.Errorf("%s%s: %w", doing, query, err))
	}
	qid := ""
	if se.QueryID != "" {
		qid = " (query id " + se.QueryID + ")"
	}
	switch se.Number {
	case 390100:
		return sourceerr.Unauthenticated(fmt.Errorf("%s: Snowflake refused the login of user %q on account %q: incorrect user name or password (%d): %w", doing, c.spec.User, c.spec.Account, se.Number, err))
	case 390144:
		return sourceerr.Unauthenticated(fmt.Errorf("%s: Snowflake refused the key-pair login of user %q: the JWT signed with private_key does not match the user's RSA_PUBLIC_KEY (%d): %w", doing, c.spec.User, se.Number, err))
	case 390303, 390318:
		return sourceerr.Unauthenticated(fmt.Errorf("%s: Snowflake refused the OAuth token for user %q: invalid or expired access token (%d): %w", doing, c.spec.User, se.Number, err))
	case 390189:
		return sourceerr.PermissionDenied(fmt.Errorf("%s: role %q does not exist or is not granted to user %q (%d): %w", doing, c.spec.Role, c.spec.User, se.Number, err))
	case 606:
		return sourceerr.NotFound(fmt.Errorf("%s%s: no usable warehouse: %q does not exist or role %s may not use it%s: %w", doing, query, c.spec.Warehouse, c.roleName(), qid, err))
	case 604:
		return fmt.Errorf("%s%s: cancelled%s: %w", doing, query, qid, err)
	}
	switch {
	case sqlError(se):
		what := "SQL error"
		if strings.HasPrefix(se.SQLState, "42") || se.Number == 2003 || se.Number == 904 || se.Number == 1003 {
			what = "SQL compilation error"
		}
		return sourceerr.Config(fmt.Errorf("%s%s: %s%s: %w", doing, query, what, qid, err))
	case se.Number >= 260000 && se.Number <= 260004 || se.Number == 260010 || se.Number == 260011:
		return sourceerr.Config(fmt.Errorf("%s%s: %w", doing, query, err)) // the driver refused the configuration
	}
	return sourceerr.Retryable(fmt.Errorf("%s%s%s: %w", doing, query, qid, err))
}

// sqlError reports an error in the query itself: a compilation error, an unknown object, a data
// exception. Running the same SQL again fails the same way.
func sqlError(se *sf.SnowflakeError) bool {
	switch {
	case se.Number == 2003 || se.Number == 904 || se.Number == 1003 || se.Number == 2043:
		return true
	case len(se.SQLState) == 5:
		switch se.SQLState[:2] {
		case "42", "22", "0A", "02":
			return true
		}
	}
	return false
}

func (c *Client) logStack(stack []byte) {
	c.logger.Error().Bytes("stack", stack).Msg("recovered from a panic")
}
