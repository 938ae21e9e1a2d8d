package schema

import (
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // time_zone validation must not depend on the host's zoneinfo

	"github.com/apache/arrow/go/v15/arrow"
)

// stdKind is how a Braze standard profile field is validated.
type stdKind uint8

const (
	stdNone      stdKind = iota // custom attribute
	stdString                   // plain string field
	stdEmail                    // string, email syntax checked
	stdGender                   // M/F/O/N/P, common words normalised
	stdSubscribe                // opted_in/subscribed/unsubscribed, or bool
	stdDOB                      // YYYY-MM-DD from date, timestamp or string
	stdDate                     // date, timestamp or string (Braze parses)
	stdBool                     // boolean only
	stdTimeZone                 // IANA zone name
	stdAny                      // structured field passed through
)

// standardFields lists Braze's reserved profile fields (docs/braze-api.md §2.5).
// Names are case-sensitive: First_Name is a custom attribute.
var standardFields = map[string]stdKind{
	"first_name": stdString, "last_name": stdString, "home_city": stdString,
	"country": stdString, "language": stdString, "phone": stdString, "image_url": stdString,
	"email":           stdEmail,
	"gender":          stdGender,
	"dob":             stdDOB,
	"time_zone":       stdTimeZone,
	"email_subscribe": stdSubscribe, "push_subscribe": stdSubscribe,
	"email_open_tracking_disabled": stdBool, "email_click_tracking_disabled": stdBool,
	"date_of_first_session": stdDate, "date_of_last_session": stdDate, "marked_email_as_spam_at": stdDate,
	"current_location": stdAny, "subscription_groups": stdAny, "push_tokens": stdAny,
	"facebook": stdAny, "twitter": stdAny,
}

func newStandardWriter(k stdKind, dt arrow.DataType, o writerOpts) (valueWriter, error) {
	switch k {
	case stdString:
		if _, err := newStringSource(dt); err != nil {
			return nil, fmt.Errorf("standard field needs a string column: %w", err)
		}
		return newWriter(dt, o)
	case stdEmail, stdGender, stdTimeZone:
		src, err := newStringSource(dt)
		if err != nil {
			return nil, fmt.Errorf("standard field needs a string column: %w", err)
		}
		switch k {
		case stdEmail:
			return &emailWriter{src}, nil
		case stdGender:
			return &genderWriter{src}, nil
		}
		return &timeZoneWriter{stringSource: src, known: map[string]bool{}}, nil
	case stdSubscribe:
		if dt.ID() == arrow.BOOL {
			return &subscribeBoolWriter{}, nil
		}
		src, err := newStringSource(dt)
		if err != nil {
			return nil, fmt.Errorf("subscription state needs a string or bool column: %w", err)
		}
		return &subscribeWriter{src}, nil
	case stdDOB:
		return newDOBWriter(dt)
	case stdDate:
		switch dt.ID() {
		case arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP, arrow.STRING, arrow.LARGE_STRING:
			return newWriter(dt, o)
		}
		return nil, fmt.Errorf("date field needs a date, timestamp or string column, not %s", dt)
	case stdBool:
		if dt.ID() != arrow.BOOL {
			return nil, fmt.Errorf("boolean field needs a bool column, not %s", dt)
		}
		return &boolWriter{}, nil
	}
	w, err := newWriter(dt, o)
	if err != nil {
		return nil, err
	}
	return sizeLimited{w}, nil
}

// validEmail is a syntax check, not RFC 5322: one '@', a non-empty local
// part, a dotted domain, no whitespace or control characters, ≤ 255 chars.
// Values are never altered, so surrounding spaces make an email invalid.
func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || len(s) > MaxStringChars {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == ',' || c == ';' || c == '<' || c == '>' || c == '"' {
			return false
		}
	}
	domain := s[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1 && domain[0] != '.' && !strings.Contains(domain, "..")
}

type emailWriter struct{ stringSource }

func (w *emailWriter) appendValue(dst []byte, i int) ([]byte, string) {
	s := w.str(i)
	if !validEmail(s) {
		return dst, reasonEmail
	}
	return appendString(dst, s, 0, false)
}

// genderCodes maps accepted inputs, compared case-insensitively, to Braze's
// codes. The single letters are Braze's own; the words are the common
// spellings warehouses hold.
var genderCodes = map[string]string{
	"m": "M", "male": "M", "man": "M",
	"f": "F", "female": "F", "woman": "F",
	"o": "O", "other": "O", "non-binary": "O", "nonbinary": "O",
	"n": "N", "not applicable": "N", "n/a": "N",
	"p": "P", "prefer not to say": "P",
}

type genderWriter struct{ stringSource }

func (w *genderWriter) appendValue(dst []byte, i int) ([]byte, string) {
	s := w.str(i)
	if len(s) > 20 {
		return dst, reasonGender
	}
	var buf [20]byte
	code, ok := genderCodes[string(lowerASCII(buf[:0], s))]
	if !ok {
		return dst, reasonGender
	}
	return append(append(append(dst, '"'), code...), '"'), ""
}

func lowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

type subscribeWriter struct{ stringSource }

func (w *subscribeWriter) appendValue(dst []byte, i int) ([]byte, string) {
	s := w.str(i)
	if len(s) > 12 {
		return dst, reasonSubscribe
	}
	var buf [12]byte
	switch v := string(lowerASCII(buf[:0], s)); v {
	case "opted_in", "subscribed", "unsubscribed":
		return append(append(append(dst, '"'), v...), '"'), ""
	}
	return dst, reasonSubscribe
}

// subscribeBoolWriter maps true to "subscribed" and false to "unsubscribed".
type subscribeBoolWriter struct{ boolWriter }

func (w *subscribeBoolWriter) appendValue(dst []byte, i int) ([]byte, string) {
	if w.value(i) {
		return append(dst, `"subscribed"`...), ""
	}
	return append(dst, `"unsubscribed"`...), ""
}

// timeZoneWriter checks names with time.LoadLocation, caching the answer
// per distinct value so the hot path is a map lookup.
type timeZoneWriter struct {
	stringSource
	known map[string]bool
}

func (w *timeZoneWriter) appendValue(dst []byte, i int) ([]byte, string) {
	s := w.str(i)
	ok, seen := w.known[s]
	if !seen {
		_, err := time.LoadLocation(s)
		ok = err == nil && s != "" && s != "Local"
		if len(w.known) < 10000 {
			w.known[strings.Clone(s)] = ok
		}
	}
	if !ok {
		return dst, reasonTimeZone
	}
	return appendString(dst, s, 0, false)
}

func newDOBWriter(dt arrow.DataType) (valueWriter, error) {
	switch t := dt.(type) {
	case *arrow.Date32Type:
		return &dobDateWriter[int32]{dateWriter[int32]{perDay: 1}}, nil
	case *arrow.Date64Type:
		return &dobDateWriter[int64]{dateWriter[int64]{perDay: msPerDay}}, nil
	case *arrow.TimestampType:
		return &dobTimestampWriter{timestampWriter{unit: t.Unit}}, nil
	}
	src, err := newStringSource(dt)
	if err != nil {
		return nil, fmt.Errorf("dob needs a date, timestamp or string column, not %s", dt)
	}
	return &dobStringWriter{src}, nil
}

func appendDOB(dst []byte, days int64) ([]byte, string) {
	if days < minDay || days > maxDay {
		return dst, reasonDOB
	}
	dst = append(dst, '"')
	dst = appendDate(dst, days)
	return append(dst, '"'), ""
}

type dobDateWriter[T int32 | int64] struct{ dateWriter[T] }

func (w *dobDateWriter[T]) appendValue(dst []byte, i int) ([]byte, string) {
	return appendDOB(dst, w.days(i))
}

// dobTimestampWriter takes the UTC calendar date of a timestamp.
type dobTimestampWriter struct{ timestampWriter }

func (w *dobTimestampWriter) appendValue(dst []byte, i int) ([]byte, string) {
	days, _, _ := w.split(i)
	return appendDOB(dst, days)
}

// dobStringWriter accepts only a real calendar date written YYYY-MM-DD.
type dobStringWriter struct{ stringSource }

func (w *dobStringWriter) appendValue(dst []byte, i int) ([]byte, string) {
	s := w.str(i)
	if !validISODate(s) {
		return dst, reasonDOB
	}
	return append(append(append(dst, '"'), s...), '"'), ""
}

func validISODate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	num := func(b string) (int, bool) {
		n := 0
		for i := 0; i < len(b); i++ {
			if b[i] < '0' || b[i] > '9' {
				return 0, false
			}
			n = n*10 + int(b[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || y > 3000 {
		return false
	}
	days := daysFromCivil(int64(y), m, d)
	yy, mm, dd := civilFromDays(days)
	return yy == int64(y) && mm == m && dd == d
}

// IsStandardField reports whether name is one of Braze's standard profile fields (docs/braze-api.md §2.5),
// which brazesync validates and normalises; any other name is a custom attribute.
func IsStandardField(name string) bool {
	_, ok := standardFields[name]
	return ok
}

// StandardFields lists Braze's standard profile fields, sorted.
func StandardFields() []string {
	out := make([]string, 0, len(standardFields))
	for name := range standardFields {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
