package snowflake

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/test/testbin"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/stretchr/testify/require"
)

const testPassword = "emu-password"

// startEmu starts an emulator with the ALL_TYPES table and password login.
func startEmu(t *testing.T, opts snowflakeemu.Options) *snowflakeemu.Emulator {
	t.Helper()
	if opts.Password == "" {
		opts.Password = testPassword
	}
	if opts.Now.IsZero() {
		opts.Now = snowflakeemu.SeedClock
	}
	e, err := snowflakeemu.NewStarted(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	require.NoError(t, e.SeedAllTypes(context.Background()))
	return e
}

// emuSpec is a password spec pointing at e.
func emuSpec(e *snowflakeemu.Emulator, queries ...Query) Spec {
	host, port := e.HostPort()
	o := e.Options()
	return Spec{Account: o.Account, User: o.User, Password: o.Password, Warehouse: "COMPUTE_WH",
		Role: "SYNC_ROLE", Database: o.Database, Schema: o.Schema, Host: host, Port: port, Protocol: "http",
		Queries: queries, LoginTimeoutSeconds: 5}
}

func specJSON(t *testing.T, s Spec) []byte {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return b
}

// initPlugin runs Init with spec on a fresh plugin, then lists its tables, which logs in and
// describes the queries (Init itself checks only the spec).
func initPlugin(t *testing.T, s Spec) (*plugin.Plugin, error) {
	t.Helper()
	p := NewPlugin()
	err := p.Init(context.Background(), specJSON(t, s), plugin.NewClientOptions{})
	if err == nil {
		t.Cleanup(func() { _ = p.Close(context.Background()) })
		_, err = p.Tables(context.Background(), plugin.TableOptions{Tables: []string{"*"}})
	}
	return p, err
}

// syncAll syncs every table and returns the inserts per table.
func syncAll(t *testing.T, p *plugin.Plugin) map[string][]arrow.Record {
	t.Helper()
	msgs, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}})
	require.NoError(t, err)
	out := map[string][]arrow.Record{}
	for _, m := range msgs {
		if ins, ok := m.(*message.SyncInsert); ok {
			name, _ := ins.Record.Schema().Metadata().GetValue("cq:table_name")
			out[name] = append(out[name], ins.Record)
		}
	}
	return out
}

// writeKeyPair writes a fresh RSA key pair as PEM files and returns their
// paths and the public key.
func writeKeyPair(t *testing.T) (privPath, pubPath string, pub *rsa.PublicKey) {
	t.Helper()
	k := testbin.NewKeyPair(t)
	return k.PrivatePath, k.PublicPath, k.Public
}

func snowflakeemuOptions() snowflakeemu.Options { return snowflakeemu.Options{} }
