package mysql

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/sluicecdc/sluice"
)

// position is the decoded form of a sluice.Position produced by this source.
type position struct {
	V      int    `json:"v"`
	Flavor string `json:"flavor"`
	// File and Offset are the binlog coordinates of a transaction boundary.
	File   string `json:"file"`
	Offset uint32 `json:"pos"`
	// GTID is the GTID set executed up to File/Offset (informational for
	// file+offset resumption; used with StartGTID).
	GTID string `json:"gtid,omitempty"`
	// Snap is set while the initial snapshot is unfinished: File/Offset are
	// then the snapshot's start position.
	Snap *snapState `json:"snap,omitempty"`
	// Schemas are the versions of the captured tables in force at File/Offset.
	Schemas json.RawMessage `json:"schemas,omitempty"`
}

const positionVersion = 1

func (p *position) encode() sluice.Position {
	p.V = positionVersion
	// The schemas are already encoded (and cached by the caller): marshal
	// the rest and splice them in, instead of re-validating them each time.
	schemas := p.Schemas
	q := *p
	q.Schemas = nil
	b, err := json.Marshal(&q)
	if err != nil {
		panic(fmt.Sprintf("mysql source: encoding position: %v", err)) // only plain data: cannot fail
	}
	if len(schemas) == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+len(schemas)+12)
	out = append(out, b[:len(b)-1]...)
	out = append(out, `,"schemas":`...)
	out = append(out, schemas...)
	return append(out, '}')
}

func decodePosition(b sluice.Position) (*position, error) {
	var p position
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("mysql source: position is not one of ours (%v); start without a checkpoint to re-snapshot", err)
	}
	if p.V != positionVersion {
		return nil, fmt.Errorf("mysql source: position version %d is not supported (want %d)", p.V, positionVersion)
	}
	if p.File == "" && p.GTID == "" {
		return nil, fmt.Errorf("mysql source: position has neither binlog file nor GTID set")
	}
	return &p, nil
}

// snapState is the progress of an unfinished initial snapshot.
type snapState struct {
	Tables []snapTable `json:"tables"`
}

type snapTable struct {
	Schema string     `json:"s"`
	Name   string     `json:"n"`
	Total  int64      `json:"total,omitempty"`
	Segs   []segState `json:"segs"`
}

// segState is one key range of a table: [Lo, Hi) on the first key column
// (nil bounds are open), read in keyset chunks; Last is the key of the last
// row emitted (nil: none yet).
type segState struct {
	Lo   []keyVal `json:"lo,omitempty"`
	Hi   []keyVal `json:"hi,omitempty"`
	Last []keyVal `json:"last,omitempty"`
	Done bool     `json:"done,omitempty"`
	Rows int64    `json:"rows,omitempty"`
}

func (s *snapState) clone() *snapState {
	c := &snapState{Tables: make([]snapTable, len(s.Tables))}
	for i, t := range s.Tables {
		t.Segs = append([]segState(nil), t.Segs...)
		c.Tables[i] = t
	}
	return c
}

func (s *snapState) done() bool {
	for _, t := range s.Tables {
		for _, g := range t.Segs {
			if !g.Done {
				return false
			}
		}
	}
	return true
}

// keyVal is one key column value in a persisted position, kept as a bind
// argument: T is "i" (int64), "u" (uint64), "s" (text) or "b" (bytes).
type keyVal struct {
	T string `json:"t"`
	S string `json:"s,omitempty"`
	B []byte `json:"b,omitempty"`
}

func toKeyVal(v any) keyVal {
	switch x := v.(type) {
	case int64:
		return keyVal{T: "i", S: strconv.FormatInt(x, 10)}
	case uint64:
		return keyVal{T: "u", S: strconv.FormatUint(x, 10)}
	case string:
		return keyVal{T: "s", S: x}
	case []byte:
		return keyVal{T: "b", B: x}
	case sluice.Decimal:
		return keyVal{T: "s", S: string(x)}
	case sluice.Date:
		return keyVal{T: "s", S: x.String()}
	case time.Time:
		return keyVal{T: "s", S: x.Format("2006-01-02 15:04:05.999999")}
	case time.Duration:
		return keyVal{T: "s", S: formatDuration(x)}
	case float32:
		return keyVal{T: "s", S: strconv.FormatFloat(float64(x), 'g', -1, 32)}
	case float64:
		return keyVal{T: "s", S: strconv.FormatFloat(x, 'g', -1, 64)}
	}
	return keyVal{T: "s", S: fmt.Sprint(v)}
}

// keyValOf is toKeyVal for a key column of kind: zero dates (NULL or the
// zero value, as the ZeroDate policy delivers them) become MySQL's zero
// literal again, so the next chunk starts after them.
func keyValOf(v any, kind sluice.Kind) keyVal {
	switch kind {
	case sluice.KindDate:
		if v == nil {
			return keyVal{T: "s", S: "0000-00-00"}
		}
	case sluice.KindDateTime, sluice.KindTimestamp:
		if t, ok := v.(time.Time); v == nil || (ok && t.IsZero()) {
			return keyVal{T: "s", S: "0000-00-00 00:00:00"}
		}
	}
	return toKeyVal(v)
}

func (k keyVal) arg() any {
	switch k.T {
	case "i":
		n, _ := strconv.ParseInt(k.S, 10, 64)
		return n
	case "u":
		n, _ := strconv.ParseUint(k.S, 10, 64)
		return n
	case "b":
		if k.B == nil {
			return []byte{}
		}
		return k.B
	}
	return k.S
}

func formatDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign = "-"
		d = -d
	}
	h := int64(d / time.Hour)
	m := int64(d/time.Minute) % 60
	s := int64(d/time.Second) % 60
	us := int64(d/time.Microsecond) % 1e6
	return fmt.Sprintf("%s%02d:%02d:%02d.%06d", sign, h, m, s, us)
}
