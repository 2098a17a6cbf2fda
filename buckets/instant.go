package buckets

import (
	"encoding/json"
	"math"
	"time"
)

// ParseInstant is Cairn's one reader of instants: queries and indexes on
// timestamp fields, import's newer-wins rule and the old app's version
// choice all read a time through it. It returns milliseconds since the
// Unix epoch (rounded down), and false for a value it cannot read, which
// callers report rather than take as time 0. It reads:
//
//   - a number (int64, float64, json.Number, or a uint64 within int64: a
//     uint64 of the value model is beyond it) or a string holding a JSON
//     number literal: epoch milliseconds;
//   - a date, YYYY-MM-DD, as midnight UTC (JavaScript's expanded years,
//     ±YYYYYY-MM-DD, too);
//   - a date, then 'T', 't' or a space, then hh:mm, hh:mm:ss or
//     hh:mm:ss.fraction (any number of digits, '.' or ','), then a zone:
//     'Z', 'z', ±hh:mm, ±hhmm, ±hh, or none for UTC. This covers RFC 3339,
//     what JavaScript's toISOString writes (2025-10-16T09:00:00.000Z) and
//     what the old app wrote.
//
// Fields out of range (month 13, February 30, hour 24, second 60) are not
// read; nothing else is accepted (no surrounding spaces, no zone names).
func ParseInstant(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		if ms, ok := parseDateTime(x); ok {
			return ms, true
		}
		if IsNumberLiteral(x) {
			return ParseInstant(json.Number(x))
		}
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if math.Abs(x) < 1<<53 {
			return int64(math.Floor(x)), true
		}
		if d, ok := toDecimal(x); ok { // the value its shortest form writes
			return d.floor()
		}
	case json.Number:
		if d, ok := parseDecimal(string(x)); ok {
			return d.floor()
		}
	}
	return 0, false
}

// parseDateTime reads the date and date-time forms of ParseInstant.
func parseDateTime(s string) (int64, bool) {
	p := &dtParser{s: s}
	year, ok := p.year()
	if !ok || !p.lit('-') {
		return 0, false
	}
	month, ok1 := p.num(2)
	ok2 := p.lit('-')
	day, ok3 := p.num(2)
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	var hour, minute, sec, ms, offset int
	if p.i < len(s) {
		if c := s[p.i]; c != 'T' && c != 't' && c != ' ' {
			return 0, false
		}
		p.i++
		var ok bool
		if hour, ok = p.num(2); !ok || hour > 23 || !p.lit(':') {
			return 0, false
		}
		if minute, ok = p.num(2); !ok || minute > 59 {
			return 0, false
		}
		if p.lit(':') {
			if sec, ok = p.num(2); !ok || sec > 59 {
				return 0, false
			}
			if p.lit('.') || p.lit(',') {
				n := 0
				for p.i < len(s) && s[p.i] >= '0' && s[p.i] <= '9' {
					if n < 3 {
						ms = ms*10 + int(s[p.i]-'0')
					}
					n++
					p.i++
				}
				if n == 0 {
					return 0, false
				}
				for ; n < 3; n++ {
					ms *= 10
				}
			}
		}
		if offset, ok = p.zone(); !ok {
			return 0, false
		}
	}
	if p.i != len(s) {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
	return t.UnixMilli() - int64(offset)*60_000, true
}

type dtParser struct {
	s string
	i int
}

func (p *dtParser) lit(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// num reads exactly n digits.
func (p *dtParser) num(n int) (int, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(p.s[p.i : p.i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v, true
}

// year reads YYYY, or ±YYYYYY (ECMAScript's expanded years).
func (p *dtParser) year() (int, bool) {
	if p.lit('+') {
		return p.num(6)
	}
	if p.lit('-') {
		y, ok := p.num(6)
		return -y, ok && y != 0 // -000000 is not a year
	}
	return p.num(4)
}

// zone reads Z, ±hh:mm, ±hhmm, ±hh or nothing, as minutes east of UTC.
func (p *dtParser) zone() (int, bool) {
	if p.i == len(p.s) {
		return 0, true
	}
	if p.lit('Z') || p.lit('z') {
		return 0, true
	}
	sign := 1
	switch {
	case p.lit('+'):
	case p.lit('-'):
		sign = -1
	default:
		return 0, false
	}
	h, ok := p.num(2)
	if !ok || h > 23 {
		return 0, false
	}
	m := 0
	if p.i < len(p.s) {
		p.lit(':')
		if m, ok = p.num(2); !ok || m > 59 {
			return 0, false
		}
	}
	return sign * (h*60 + m), true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
