package mysql

import (
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
)

// FuzzParseDuration checks that TIME text never panics and that every
// duration in MySQL's TIME range survives format → parse (S2).
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"838:59:59", "-838:59:59.000000", "00:00:00.5", "-00:00:00.000001", "1:2:3", "", "-", "12:3x:00"} {
		f.Add(s, int64(0))
	}
	f.Add("", int64(-(838*time.Hour + 59*time.Minute + 59*time.Second)))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		parseDuration([]byte(s)) //nolint:errcheck // must not panic
		d := time.Duration(n) / time.Microsecond * time.Microsecond
		lim := 839 * time.Hour
		if d > -lim && d < lim {
			got, err := parseDuration([]byte(formatDuration(d)))
			if err != nil || got != d {
				t.Fatalf("%s: round trip gave %v, %v", formatDuration(d), got, err)
			}
		}
	})
}

// FuzzDateTime checks that date and date-time text never panics and that
// valid values round-trip.
func FuzzDateTime(f *testing.F) {
	for _, s := range []string{"2024-02-29 12:34:56.123456", "0000-00-00 00:00:00", "9999-12-31", "1000-01-01 00:00:00", "2020-00-10", "x"} {
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, s string, sec int64) {
		c := &conv{name: "c", kind: sluice.KindDateTime}
		c.dateTime([]byte(s)) //nolint:errcheck // must not panic
		c.date([]byte(s))     //nolint:errcheck
		sec %= 253402300800   // up to 9999-12-31
		if sec < -30610224000 {
			return // before year 1000
		}
		want := time.Unix(sec, (sec%1000000)*1000).UTC()
		if want.Year() < 1000 || want.Year() > 9999 {
			return
		}
		got, err := c.dateTime([]byte(want.Format("2006-01-02 15:04:05.000000")))
		if err != nil || !got.(time.Time).Equal(want) {
			t.Fatalf("%s: got %v, %v", want, got, err)
		}
	})
}

// FuzzLatin1 checks that latin1 text always decodes to valid UTF-8.
func FuzzLatin1(f *testing.F) {
	f.Add([]byte("caf\xe9 \x80"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := latin1ToUTF8(b)
		if n := len([]rune(s)); n != len(b) {
			t.Fatalf("%d bytes gave %d runes", len(b), n)
		}
	})
}

// TestCanonicalJSON (S2): MySQL's text rendering of a JSON document and
// go-mysql's rendering of its binary form canonicalise to the same bytes.
func TestCanonicalJSON(t *testing.T) {
	pairs := [][2]string{
		{`{"b": 1, "a": [2.5, 5.0, "<&>"], "cc": {"y": null, "x": true}}`, `{"a":[2.5,5,"\u003c\u0026\u003e"],"b":1,"cc":{"x":true,"y":null}}`},
		{`{"big": 18446744073709551615, "e": 1e300}`, `{"e":1e+300,"big":18446744073709551615}`},
		{`"😀 \" \\"`, `"😀 \" \\"`},
	}
	for _, p := range pairs {
		a, err1 := canonicalJSON([]byte(p[0]))
		b, err2 := canonicalJSON([]byte(p[1]))
		if err1 != nil || err2 != nil || string(a.(sluice.JSON)) != string(b.(sluice.JSON)) {
			t.Errorf("%s -> %s, %s -> %s (%v %v)", p[0], a, p[1], b, err1, err2)
		}
	}
	if _, err := canonicalJSON([]byte(`{"a":`)); err == nil {
		t.Error("invalid JSON accepted")
	}
}
