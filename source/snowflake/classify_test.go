package snowflake

import (
	"context"
	"net"
	"testing"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/source/sourceerr"
)

// TestInitChecksOnlyTheSpec: Init does no I/O (plugin-sdk would strip its errors of their class),
// so an unreachable account passes Init and fails the first Tables call, classified.
func TestInitChecksOnlyTheSpec(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().(*net.TCPAddr)
	require.NoError(t, ln.Close()) // a port nobody listens on
	s := Spec{Account: "EMU", User: "BRAZESYNC", Password: "pw", Warehouse: "COMPUTE_WH", Host: "127.0.0.1",
		Port: addr.Port, Protocol: "http", LoginTimeoutSeconds: 2, Queries: []Query{{Name: "q", SQL: "SELECT 1"}}}
	p := NewPlugin()
	require.NoError(t, p.Init(context.Background(), specJSON(t, s), plugin.NewClientOptions{}))
	_, err = p.Tables(context.Background(), plugin.TableOptions{Tables: []string{"*"}})
	require.Error(t, err)
	code := sourceerr.Code(err)
	require.Truef(t, code == codes.Unavailable || code == codes.DeadlineExceeded, "unreachable account: code %v (%v)", code, err)

	s.Queries = nil
	require.Error(t, NewPlugin().Init(context.Background(), specJSON(t, s), plugin.NewClientOptions{}), "a bad spec still fails Init")
}

// TestErrorClasses: refused credentials, a missing warehouse and SQL errors are configuration
// errors (not retried), each with its gRPC code, which survives plugin-sdk's wrapping of Sync.
func TestErrorClasses(t *testing.T) {
	e := startEmu(t, snowflakeemu.Options{})
	cases := []struct {
		name string
		edit func(*Spec)
		want codes.Code
	}{
		{"wrong password", func(s *Spec) { s.Password = "nope" }, codes.Unauthenticated},
		{"no such warehouse", func(s *Spec) { s.Warehouse = "NO_SUCH_WH" }, codes.NotFound},
		{"SQL error", func(s *Spec) { s.Queries = []Query{{Name: "q", SQL: "SELECT * FROM NO_SUCH_TABLE"}} }, codes.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := emuSpec(e, Query{Name: "q", SQL: oneQuery})
			tc.edit(&s)
			p := NewPlugin()
			require.NoError(t, p.Init(context.Background(), specJSON(t, s), plugin.NewClientOptions{}))
			_, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}})
			require.Error(t, err)
			st, _ := status.FromError(err)
			require.Equalf(t, tc.want, st.Code(), "%v", err)
		})
	}
}
