package snowflake

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/stretchr/testify/require"
)

const oneQuery = "SELECT ID, NAME FROM ALL_TYPES WHERE ID IS NOT NULL"

// TestKeyPairAuth logs in with a JWT signed by the configured key, and a
// different key is refused with a message naming key-pair auth.
func TestKeyPairAuth(t *testing.T) {
	priv, _, pub := writeKeyPair(t)
	e := startEmu(t, snowflakeemu.Options{PublicKey: pub})
	s := emuSpec(e, Query{Name: "q", SQL: oneQuery})
	s.Password, s.PrivateKeyPath = "", priv
	p, err := initPlugin(t, s)
	require.NoError(t, err)
	require.Len(t, syncAll(t, p)["q"], 1)
	require.Contains(t, e.Stats().Logins, "SNOWFLAKE_JWT")

	wrongPriv, _, _ := writeKeyPair(t)
	s.PrivateKeyPath = wrongPriv
	_, err = initPlugin(t, s)
	require.Error(t, err)
	require.Contains(t, err.Error(), "refused the key-pair login")
	require.Contains(t, err.Error(), "390144")
	pem, _ := os.ReadFile(wrongPriv)
	require.NotContains(t, err.Error(), string(pem[30:60]), "error must not leak the key")
}

func TestOAuthAndPassword(t *testing.T) {
	e := startEmu(t, snowflakeemu.Options{OAuthToken: "oauth-secret-token"})
	s := emuSpec(e, Query{Name: "q", SQL: oneQuery})
	s.Password, s.Token = "", "oauth-secret-token"
	_, err := initPlugin(t, s)
	require.NoError(t, err)

	s.Token = "stale-token"
	_, err = initPlugin(t, s)
	require.ErrorContains(t, err, "refused the OAuth token")
	require.NotContains(t, err.Error(), "stale-token")

	s = emuSpec(e, Query{Name: "q", SQL: oneQuery})
	s.Password = "not-the-password"
	_, err = initPlugin(t, s)
	require.ErrorContains(t, err, "incorrect user name or password")
	require.NotContains(t, err.Error(), "not-the-password")
	require.Equal(t, []string{"OAUTH"}, e.Stats().Logins)
}

func TestCompilationErrorNamesQueryAndID(t *testing.T) {
	e := startEmu(t, snowflakeemu.Options{})
	_, err := initPlugin(t, emuSpec(e, Query{Name: "bad", SQL: "SELECT * FROM NO_SUCH_TABLE"}))
	require.ErrorContains(t, err, "describing query bad: SQL compilation error (query id ")
	require.ErrorContains(t, err, "Object 'NO_SUCH_TABLE' does not exist or not authorized")
}

func TestMissingWarehouse(t *testing.T) {
	e := startEmu(t, snowflakeemu.Options{})
	s := emuSpec(e, Query{Name: "q", SQL: oneQuery})
	s.Warehouse = "NO_SUCH_WH"
	_, err := initPlugin(t, s)
	require.ErrorContains(t, err, `warehouse "NO_SUCH_WH" does not exist or role "SYNC_ROLE" may not use it`)
}

// TestQueryTagAndPollPath runs a slow query (SYSTEM$WAIT) so the emulator
// answers "still running" and the driver polls the result URL; the query
// tag shows in the emulator's query history.
func TestQueryTagAndPollPath(t *testing.T) {
	e := startEmu(t, snowflakeemu.Options{HoldQuery: 50 * time.Millisecond})
	s := emuSpec(e, Query{Name: "slow", SQL: "SELECT ID, SYSTEM$WAIT(0.3) AS W FROM ALL_TYPES WHERE ID IS NOT NULL"})
	s.QueryTag = "brazesync-test"
	p, err := initPlugin(t, s)
	require.NoError(t, err)
	recs := syncAll(t, p)["slow"]
	require.Len(t, recs, 1)
	require.EqualValues(t, 2, recs[0].NumRows())
	var tagged int
	for _, h := range e.History() {
		if h.Tag == "brazesync-test" && !h.DescribeOnly && h.Status == "SUCCESS" {
			tagged++
		}
	}
	require.Equal(t, 1, tagged)
}

// TestCancelAbortsQuery cancels a sync while the query runs: the driver
// sends abort-request and the emulator marks the query ABORTED.
func TestCancelAbortsQuery(t *testing.T) {
	e := startEmu(t, snowflakeemu.Options{HoldQuery: 50 * time.Millisecond})
	p, err := initPlugin(t, emuSpec(e, Query{Name: "slow", SQL: "SELECT ID, SYSTEM$WAIT(30) AS W FROM ALL_TYPES"}))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			for _, h := range e.History() {
				if !h.DescribeOnly && h.Status == "RUNNING" && h.Tag != "" {
					// Let the first "still running" answer (which carries the
					// query id) reach the driver before cancelling.
					time.Sleep(300 * time.Millisecond)
					cancel()
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	_, err = p.SyncAll(ctx, plugin.SyncOptions{Tables: []string{"*"}})
	require.ErrorContains(t, err, "slow")
	require.ErrorContains(t, err, "cancelled")
	require.ErrorContains(t, err, "query id ")
	require.Eventually(t, func() bool {
		for _, h := range e.History() {
			if h.Status == "ABORTED" {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond)
}

// TestSessionRenewal expires the session token mid-run; the driver renews
// it with the master token and the sync succeeds.
func TestSessionRenewal(t *testing.T) {
	e := startEmu(t, snowflakeemu.Options{})
	p, err := initPlugin(t, emuSpec(e, Query{Name: "q", SQL: oneQuery}))
	require.NoError(t, err)
	e.ExpireSessionTokens()
	require.Len(t, syncAll(t, p)["q"], 1)
	require.GreaterOrEqual(t, e.Stats().Renewals, 1)
	require.NoError(t, p.Close(context.Background()))
	require.GreaterOrEqual(t, e.Stats().SessionsClose, 1)
}
