package looker

import (
	"strconv"
)

// Row limits. Looker applies a limit to every result: the query's own, else 5,000 for a saved
// Look and 500 for an inline query, and a result that cannot stream may be cut at 5,000 (or the
// instance's maximum, by default 100,000) even when all results were asked for (docs/looker.md,
// "Facts this code relies on"; help.looker.com 360001285567). A sync that silently stops at such a number is the stock action's
// worst habit, so: a table whose spec sets no limit asks for all results ("-1"), and a table that
// returns exactly its own limit or one of Looker's caps is logged as a warning naming both.

// allResults is Looker's "no limit".
const allResults Limit = "-1"

// lookerCaps are the row counts at which Looker cuts a result that asked for more (all results,
// or a larger limit) when the query cannot stream. (Its 500 for inline queries applies only to a
// query without a limit, which the source never sends.)
var lookerCaps = []int64{5000, 100_000}

// orAll is the limit to send: the spec's, or all results.
func (l Limit) orAll() Limit {
	if l == "" {
		return allResults
	}
	return l
}

// warnAtLimit logs a result whose size suggests Looker cut it.
func (c *SourceClient) warnAtLimit(ts TableSpec, rows int64) {
	limit := ts.Limit
	if ts.Query != nil {
		limit = ts.Query.Limit
	}
	asked, _ := strconv.ParseInt(string(limit.orAll()), 10, 64)
	if asked > 0 && rows == asked {
		c.logger.Warn().Str("table", ts.Name).Int64("rows", rows).Int64("limit", asked).
			Msgf("table %s returned exactly its limit of %d rows: there may be more; raise limit: (or set -1 for all results)", ts.Name, asked)
		return
	}
	for _, n := range lookerCaps {
		if rows == n && (asked < 0 || asked > n) {
			c.logger.Warn().Str("table", ts.Name).Int64("rows", rows).
				Msgf("table %s returned exactly %d rows, a limit Looker applies on its own to results that cannot stream: "+
					"check in Looker that the query returns no more (a query with table calculations does not stream; "+
					"the API user needs download_without_limit)", ts.Name, rows)
			return
		}
	}
}
