package looker

import (
	"fmt"
	"io"
)

// DecodeLimits bound what one json_detail document can make the decoder hold, for callers that read
// documents from parties they do not trust (the Action Hub reads whatever a download_url answers).
// A zero field means no limit; a byte limit below the 64 KiB read buffer acts as 64 KiB. Whitespace
// between values is never held, limits or not.
type DecodeLimits struct {
	// MaxRowBytes bounds one element of "data": a row with all its cells, so also any one string in it.
	MaxRowBytes int
	// MaxSectionBytes bounds every other top-level member, each read whole ("fields", "pivots",
	// "sql", …), and every top-level key.
	MaxSectionBytes int
	// MaxBufferedRows bounds the rows kept while "data" comes before "fields".
	MaxBufferedRows int
}

// LimitError reports a document that went past one of DecodeLimits. It names the limit, never the
// data, which may be personal.
type LimitError struct {
	What  string // LimitRow, LimitSection or LimitBuffered
	Limit int
	Unit  string // "bytes" or "rows"
}

// What a LimitError is about.
const (
	LimitRow      = "a row"                    // MaxRowBytes
	LimitSection  = "a section"                // MaxSectionBytes
	LimitBuffered = `the rows before "fields"` // MaxBufferedRows
)

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s is larger than the limit of %d %s", e.What, e.Limit, e.Unit)
}

// DecodeJSONDetailLimited is DecodeJSONDetail within limits: a document that goes past one fails
// with a *LimitError once the decoder holds about the limit, however much more the reader offers.
func DecodeJSONDetailLimited(r io.Reader, h Handler, l DecodeLimits) error {
	s := detailStream{in: jsonStream{r: r}, h: h, keys: map[string]string{}, limits: l}
	s.in.bound(l.MaxSectionBytes, LimitSection)
	return s.run()
}

// bound sets the size the buffered value may reach; 0 means no limit.
func (j *jsonStream) bound(limit int, what string) {
	j.limit, j.limitWhat = limit, what
}

// overLimit reports, before the buffer grows, whether the value being read already fills the
// limit; if so the stream ends with a LimitError.
func (j *jsonStream) overLimit() bool {
	if j.limit <= 0 || len(j.buf)-j.pos < j.limit {
		return false
	}
	j.eof = true
	j.err = &LimitError{What: j.limitWhat, Limit: j.limit, Unit: "bytes"}
	return true
}

// dataBounds applies the row limit while "data" is read and restores the section limit after.
func (s *detailStream) dataBounds() (restore func()) {
	s.in.bound(s.limits.MaxRowBytes, LimitRow)
	return func() { s.in.bound(s.limits.MaxSectionBytes, LimitSection) }
}

// buffer keeps a row that came before the metadata, within MaxBufferedRows.
func (s *detailStream) buffer(row Row) error {
	if n := s.limits.MaxBufferedRows; n > 0 && len(s.buffered) >= n {
		return &LimitError{What: LimitBuffered, Limit: n, Unit: "rows"}
	}
	s.buffered = append(s.buffered, row)
	return nil
}
