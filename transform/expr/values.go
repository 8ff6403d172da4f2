package expr

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicecdc/sluice"
)

// decimal is an exact number split into parts that compare without
// arithmetic: int holds the integer digits without leading zeros, frac the
// fraction digits without trailing zeros; zero has both empty and neg false.
type decimal struct {
	neg       bool
	int, frac string
}

// splitDecimal splits plain decimal text ([-+]digits[.digits]) into parts
// without allocating. ok is false for anything else.
func splitDecimal(s string) (d decimal, ok bool) {
	if s == "" {
		return d, false
	}
	switch s[0] {
	case '-':
		d.neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	ip, fp := s, ""
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		ip, fp = s[:dot], s[dot+1:]
	}
	if ip == "" && fp == "" {
		return d, false
	}
	for i := 0; i < len(ip); i++ {
		if !isDigit(ip[i]) {
			return d, false
		}
	}
	for i := 0; i < len(fp); i++ {
		if !isDigit(fp[i]) {
			return d, false
		}
	}
	for len(ip) > 0 && ip[0] == '0' {
		ip = ip[1:]
	}
	for len(fp) > 0 && fp[len(fp)-1] == '0' {
		fp = fp[:len(fp)-1]
	}
	d.int, d.frac = ip, fp
	if ip == "" && fp == "" {
		d.neg = false
	}
	return d, true
}

// cmpDecimal compares two decimals exactly: -1, 0 or +1.
func cmpDecimal(a, b decimal) int {
	if a.neg != b.neg {
		if a.neg {
			return -1
		}
		return 1
	}
	c := cmpMagnitude(a, b)
	if a.neg {
		return -c
	}
	return c
}

func cmpMagnitude(a, b decimal) int {
	if len(a.int) != len(b.int) {
		if len(a.int) < len(b.int) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.int, b.int); c != 0 {
		return c
	}
	// Without trailing zeros, fraction digits compare lexicographically.
	return strings.Compare(a.frac, b.frac)
}

// parseNumber turns a numeric literal ([-]digits[.digits][e[+-]digits])
// into exact decimal parts, expanding the exponent.
func parseNumber(s string) (decimal, bool) {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 400 || e < -400 {
			return decimal{}, false
		}
		exp = e
	}
	d, ok := splitDecimal(mant)
	if !ok {
		return d, false
	}
	if exp == 0 || (d.int == "" && d.frac == "") {
		return d, true
	}
	digits := d.int + d.frac
	point := len(d.int) + exp // position of the decimal point in digits
	switch {
	case point <= 0:
		d.int, d.frac = "", strings.Repeat("0", -point)+digits
	case point >= len(digits):
		d.int, d.frac = digits+strings.Repeat("0", point-len(digits)), ""
	default:
		d.int, d.frac = digits[:point], digits[point:]
	}
	d.int = strings.TrimLeft(d.int, "0")
	d.frac = strings.TrimRight(d.frac, "0")
	return d, true
}

// String renders the decimal as plain text.
func (d decimal) String() string {
	s := d.int
	if s == "" {
		s = "0"
	}
	if d.frac != "" {
		s += "." + d.frac
	}
	if d.neg {
		s = "-" + s
	}
	return s
}

// intBound is a literal seen from an integer column: compare v with k; when
// frac is set the literal lies strictly between k and k+1. below/above mean
// the literal is beyond every int64 (resp. uint64) value.
type intBound struct {
	k            int64
	frac         bool
	below, above bool
}

// toIntBound maps an exact decimal onto the int64 line.
func toIntBound(d decimal) intBound {
	if len(d.int) > 19 {
		if d.neg {
			return intBound{below: true}
		}
		return intBound{above: true}
	}
	u, err := strconv.ParseUint("0"+d.int, 10, 64)
	if err != nil {
		if d.neg {
			return intBound{below: true}
		}
		return intBound{above: true}
	}
	frac := d.frac != ""
	if !d.neg {
		if u > math.MaxInt64 {
			return intBound{above: true}
		}
		return intBound{k: int64(u), frac: frac}
	}
	// Negative: -u - frac. With a fraction the literal is between -u-1 and -u.
	if u > 1<<63 || (u == 1<<63 && frac) {
		return intBound{below: true}
	}
	k := -int64(u) // -1<<63 when u == 1<<63
	if frac {
		k-- // floor
	}
	return intBound{k: k, frac: frac}
}

// cmp compares an int64 with the literal.
func (b intBound) cmp(v int64) int {
	switch {
	case b.below:
		return 1
	case b.above:
		return -1
	case b.frac: // literal in (k, k+1)
		if v <= b.k {
			return -1
		}
		return 1
	case v < b.k:
		return -1
	case v > b.k:
		return 1
	}
	return 0
}

// uintBound is a literal seen from a uint64 column.
type uintBound struct {
	k            uint64
	frac         bool
	below, above bool
}

func toUintBound(d decimal) uintBound {
	if d.neg {
		return uintBound{below: true}
	}
	if len(d.int) > 20 {
		return uintBound{above: true}
	}
	u, err := strconv.ParseUint("0"+d.int, 10, 64)
	if err != nil {
		return uintBound{above: true}
	}
	if d.frac != "" && u == math.MaxUint64 {
		return uintBound{above: true}
	}
	return uintBound{k: u, frac: d.frac != ""}
}

func (b uintBound) cmp(v uint64) int {
	switch {
	case b.below:
		return 1
	case b.above:
		return -1
	case b.frac:
		if v <= b.k {
			return -1
		}
		return 1
	case v < b.k:
		return -1
	case v > b.k:
		return 1
	}
	return 0
}

// dateKey orders civil dates as integers.
func dateKey(d sluice.Date) int64 {
	return int64(d.Year)*512 + int64(d.Month)*32 + int64(d.Day)
}

// parseDateTimeLiteral parses 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.f]' and the
// RFC 3339 form with 'T' and an optional zone (Z or ±hh:mm). Without a zone
// the wall clock is taken as UTC. hasTime reports a time part; hasZone a zone.
func parseDateTimeLiteral(s string) (t time.Time, hasTime, hasZone bool, ok bool) {
	if len(s) == 10 {
		d, err := sluice.ParseDate(s)
		if err != nil || !validDate(d) {
			return t, false, false, false
		}
		return d.Time(), false, false, true
	}
	layouts := []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}
	for _, l := range layouts {
		if tt, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return tt, true, false, true
		}
	}
	zoned := []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"}
	for _, l := range zoned {
		if tt, err := time.Parse(l, s); err == nil {
			return tt.UTC(), true, true, true
		}
	}
	return t, false, false, false
}

func validDate(d sluice.Date) bool {
	if d.IsZero() {
		return true
	}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return d.Day <= time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseDuration parses a MySQL TIME literal: [-][D ]HH:MM[:SS[.ffffff]] or
// [-]HHH:MM:SS with hours beyond 24.
func parseDuration(s string) (time.Duration, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	var days int64
	if sp := strings.IndexByte(s, ' '); sp >= 0 {
		d, err := strconv.ParseInt(s[:sp], 10, 64)
		if err != nil || d < 0 || d > 34 {
			return 0, false
		}
		days, s = d, s[sp+1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || h < 0 || h > 838 || len(parts[0]) == 0 {
		return 0, false
	}
	m, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || m < 0 || m > 59 || len(parts[1]) != 2 {
		return 0, false
	}
	var sec, nanos int64
	if len(parts) == 3 {
		sp := parts[2]
		frac := ""
		if dot := strings.IndexByte(sp, '.'); dot >= 0 {
			sp, frac = sp[:dot], sp[dot+1:]
		}
		if len(sp) != 2 || len(frac) > 9 {
			return 0, false
		}
		if sec, err = strconv.ParseInt(sp, 10, 64); err != nil || sec > 59 || sec < 0 {
			return 0, false
		}
		if frac != "" {
			for _, c := range []byte(frac) {
				if !isDigit(c) {
					return 0, false
				}
			}
			f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
			nanos = f
		}
	}
	d := time.Duration(((days*24+h)*60+m)*60+sec)*time.Second + time.Duration(nanos)
	if neg {
		d = -d
	}
	return d, true
}

// canonicalUUID lower-cases and checks the 8-4-4-4-12 form.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
			continue
		}
		if !(isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return "", false
		}
	}
	return strings.ToLower(s), true
}
