package faulte2e

import (
	"fmt"
	"strings"

	"github.com/brazesync/brazesync/test/sampledata"

	"github.com/apache/arrow/go/v15/arrow"
)

// row is one generated source row; nil fields are SQL NULLs.
type row = sampledata.UserRow

// genRows builds n deterministic rows with every case the destination must handle: users repeated
// far apart (separate requests) and back to back (merged), null keys (skipped), the blocked
// external_id "null" (Braze's own minor error), strings over 255 characters (refused by the encoder)
// and null attributes (kept from an earlier row).
func genRows(n int) []row {
	rows := make([]row, n)
	prev := ""
	for i := range rows {
		id := fmt.Sprintf("u%05d", (i*7919)%(n*9/10))
		switch {
		case i%50 == 49:
			id = prev // back to back: merged into the previous row's object
		case i%1499 == 7:
			id = "null"
		}
		prev = id
		r := row{ID: &id}
		name := fmt.Sprintf("n%d", i)
		if i%1201 == 11 {
			name = strings.Repeat("z", 300)
		}
		r.Name = &name
		if i%13 != 0 {
			s := int64(i)
			r.Score = &s
		}
		if i%997 == 3 {
			r.ID = nil
		}
		rows[i] = r
	}
	return rows
}

// record builds a users record from rows.
func record(rows []row) arrow.Record { return sampledata.UsersRecord("users", rows) }
