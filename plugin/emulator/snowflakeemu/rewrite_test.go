package snowflakeemu

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRewriteCastsAndHints(t *testing.T) {
	sv := sessionValues{Warehouse: "WH", Database: "BRAZE", Schema: "PUBLIC", Now: SeedClock}
	rw, err := rewrite(`SELECT a::NUMBER(10,2) AS x, CAST(b AS TIMESTAMP_TZ) "y", TO_TIMESTAMP(MAX(s.TIME)) AS "braze[t]",
	  c, f(d)::VARIANT, CURRENT_WAREHOUSE() AS w FROM BRAZE.PUBLIC.T s WHERE DATEADD(day, -1, CURRENT_TIMESTAMP()) > '2020'`, sv)
	require.NoError(t, err)
	kinds := make([]string, len(rw.Hints))
	for i, h := range rw.Hints {
		if h != nil {
			kinds[i] = h.String()
		}
	}
	require.Equal(t, []string{"NUMBER(10,2)", "TIMESTAMP_TZ(9)", "TIMESTAMP_NTZ(9)", "", "VARIANT", ""}, kinds)
	require.Contains(t, rw.SQL, "sf_cast(a, 'NUMBER(10,2)')")
	require.Contains(t, rw.SQL, "sf_cast(f(d), 'VARIANT')")
	require.Contains(t, rw.SQL, "'WH' AS w FROM T s")
	require.Contains(t, rw.SQL, "DATEADD('day', -1, sf_cast('2024-06-01 00:00:00.000000000+00:00', 'TIMESTAMP_LTZ'))")
	require.NotRegexp(t, `(?i)\bCAST\(`, rw.SQL)
}

func TestRewriteWait(t *testing.T) {
	rw, err := rewrite("SELECT SYSTEM$WAIT(1.5) AS W", sessionValues{Now: time.Now()})
	require.NoError(t, err)
	require.Equal(t, 1500*time.Millisecond, rw.Wait)
	require.Equal(t, "SELECT 'waited 1.5 seconds' AS W", rw.SQL)
}
