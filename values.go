package sluice

import (
	"bytes"
	"math"
	"reflect"
	"time"
)

// Equal reports whether a and b are the same value under the one Go
// representation per Kind: []byte, JSON and Geometry by content; time.Time
// by instant and location (sources emit UTC, so a value in another location
// is not the same representation); NaN equals NaN; nil equals only nil;
// everything else with ==. Values of different Go types are never equal.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case JSON:
		y, ok := b.(JSON)
		return ok && bytes.Equal(x, y)
	case Geometry:
		y, ok := b.(Geometry)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location() == y.Location()
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case float32:
		y, ok := b.(float32)
		return ok && (x == y || x != x && y != y)
	}
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}
