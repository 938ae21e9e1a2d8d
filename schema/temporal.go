package schema

import (
	"github.com/apache/arrow/go/v15/arrow"
)

const (
	secPerDay = 86400
	msPerDay  = 86400 * 1000
)

// Braze stores top-level dates with a year outside 0..3000 as strings, so
// such values are rejected rather than silently changing the attribute's
// type. These bounds are days since 1970-01-01.
var (
	minDay = daysFromCivil(0, 1, 1)
	maxDay = daysFromCivil(3001, 1, 1) - 1
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date (Howard Hinnant's algorithm; no time.Time, no allocation).
func civilFromDays(days int64) (y int64, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64(m + 9)
	if m > 2 {
		mp = int64(m - 3)
	}
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// appendDate appends YYYY-MM-DD (no quotes). The caller checked the range.
func appendDate(dst []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	yy := int(y)
	dst = append(dst, byte('0'+yy/1000), byte('0'+yy/100%10), byte('0'+yy/10%10), byte('0'+yy%10), '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	return append2(dst, d)
}

// appendClock appends HH:MM:SS and, when frac is non-zero, a fraction of
// width digits.
func appendClock(dst []byte, sod int64, frac int64, width int) []byte {
	dst = append2(dst, int(sod/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(sod/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(sod%60))
	if frac != 0 && width > 0 {
		dst = append(dst, '.')
		start := len(dst)
		for k := 0; k < width; k++ {
			dst = append(dst, '0')
		}
		for k := len(dst) - 1; k >= start; k-- {
			dst[k] = byte('0' + frac%10)
			frac /= 10
		}
	}
	return dst
}

// openTime and closeTime wrap a time string for its place: nested objects
// take {"$time":"..."}, elsewhere a plain JSON string.
func openTime(dst []byte, p place) []byte {
	if p == placeObject {
		return append(dst, `{"$time":"`...)
	}
	return append(dst, '"')
}

func closeTime(dst []byte, p place) []byte {
	if p == placeObject {
		return append(dst, `"}`...)
	}
	return append(dst, '"')
}

// appendDateTime appends a day plus time of day as ISO 8601 UTC,
// e.g. 2024-01-02T03:04:05.123Z.
func appendDateTime(dst []byte, days, sod, frac int64, width int) []byte {
	dst = appendDate(dst, days)
	dst = append(dst, 'T')
	dst = appendClock(dst, sod, frac, width)
	return append(dst, 'Z')
}

// dateWriter writes date32/date64 values as midnight UTC,
// "2024-01-02T00:00:00Z", which Braze stores as a time attribute.
type dateWriter[T int32 | int64] struct {
	validity
	vals   []T
	perDay int64
	place  place
}

func (w *dateWriter[T]) bind(a arrow.Array) error {
	w.validity.set(a)
	w.vals = fixedValues[T](a)
	return nil
}

func (w *dateWriter[T]) days(i int) int64 { return floorDiv(int64(w.vals[i]), w.perDay) }

func (w *dateWriter[T]) appendValue(dst []byte, i int) ([]byte, string) {
	days := w.days(i)
	if days < minDay || days > maxDay {
		return dst, reasonDateRange
	}
	dst = openTime(dst, w.place)
	dst = appendDateTime(dst, days, 0, 0, 0)
	return closeTime(dst, w.place), ""
}

// unitScale gives ticks per second and fraction digits for a time unit.
func unitScale(u arrow.TimeUnit) (perSec int64, width int) {
	switch u {
	case arrow.Millisecond:
		return 1e3, 3
	case arrow.Microsecond:
		return 1e6, 6
	case arrow.Nanosecond:
		return 1e9, 9
	}
	return 1, 0
}

// timestampWriter writes timestamps of any unit as ISO 8601 UTC with a Z.
// Arrow stores instants as UTC ticks whatever the zone, so the zone never
// changes the output; zone-less timestamps are taken as UTC.
type timestampWriter struct {
	validity
	vals   []int64
	unit   arrow.TimeUnit
	place  place
	perSec int64
	width  int
}

func (w *timestampWriter) bind(a arrow.Array) error {
	w.validity.set(a)
	w.vals = fixedValues[int64](a)
	w.perSec, w.width = unitScale(w.unit)
	return nil
}

// split returns days since epoch, seconds of day and sub-second ticks.
func (w *timestampWriter) split(i int) (days, sod, frac int64) {
	v := w.vals[i]
	secs := floorDiv(v, w.perSec)
	frac = v - secs*w.perSec
	days = floorDiv(secs, secPerDay)
	return days, secs - days*secPerDay, frac
}

func (w *timestampWriter) appendValue(dst []byte, i int) ([]byte, string) {
	days, sod, frac := w.split(i)
	if days < minDay || days > maxDay {
		return dst, reasonDateRange
	}
	dst = openTime(dst, w.place)
	dst = appendDateTime(dst, days, sod, frac, w.width)
	return closeTime(dst, w.place), ""
}

// timeOfDayWriter writes time32/time64 as a string "HH:MM:SS[.fff]".
// Braze has no time-of-day type.
type timeOfDayWriter[T int32 | int64] struct {
	validity
	vals   []T
	unit   arrow.TimeUnit
	perSec int64
	width  int
}

func (w *timeOfDayWriter[T]) bind(a arrow.Array) error {
	w.validity.set(a)
	w.vals = fixedValues[T](a)
	w.perSec, w.width = unitScale(w.unit)
	return nil
}

func (w *timeOfDayWriter[T]) appendValue(dst []byte, i int) ([]byte, string) {
	v := int64(w.vals[i])
	if v < 0 || v >= secPerDay*w.perSec {
		return dst, reasonTimeRange
	}
	dst = append(dst, '"')
	dst = appendClock(dst, v/w.perSec, v%w.perSec, w.width)
	return append(dst, '"'), ""
}
