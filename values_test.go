package sluice

import (
	"math"
	"testing"
	"time"
)

func TestEqual(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	for _, tc := range []struct {
		a, b any
		want bool
	}{
		{nil, nil, true},
		{nil, int64(0), false},
		{int64(1), int64(1), true},
		{int64(1), uint64(1), false},
		{uint64(math.MaxUint64), uint64(math.MaxUint64), true},
		{Decimal("1.50"), Decimal("1.50"), true},
		{Decimal("1.50"), Decimal("1.5"), false},
		{[]byte{1, 2}, []byte{1, 2}, true},
		{[]byte{1, 2}, JSON{1, 2}, false},
		{JSON(`{"a":1}`), JSON(`{"a":1}`), true},
		{Geometry{1}, Geometry{2}, false},
		{now, now, true},
		{now, now.In(time.FixedZone("x", 3600)), false},
		{math.NaN(), math.NaN(), true},
		{float32(math.NaN()), float32(math.NaN()), true},
		{float32(1.5), float64(1.5), false},
		{Date{2024, 2, 29}, Date{2024, 2, 29}, true},
		{time.Duration(-5), time.Duration(-5), true},
		{Row{1}, Row{1}, false}, // not a value representation: never equal, never a panic
	} {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
