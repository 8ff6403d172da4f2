package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluicecdc/sluice"
)

// tablePlan is everything the write path needs for one table version,
// built once per *sluice.Table: quoted names, encoders, the key function and
// SQL texts.
type tablePlan struct {
	t       *sluice.Table
	target  pgx.Identifier
	qtarget string
	cols    []string // column names as the source spells them
	qcols   []string // quoted column names
	enc     []encoder
	isKey   []bool
	keyOf   func(r sluice.Row) (any, error)
	sqlText map[string]string // statement cache by mask and op
	stageID int
}

// plan returns the cached plan for t, building it on first use.
func (s *Sink) plan(t *sluice.Table) (*tablePlan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.plans[t]; ok {
		return p, nil
	}
	p, err := s.buildPlan(t)
	if err != nil {
		return nil, err
	}
	s.plans[t] = p
	return p, nil
}

func (s *Sink) buildPlan(t *sluice.Table) (*tablePlan, error) {
	if !t.HasKey() {
		return nil, sluice.Permanent(fmt.Errorf("postgres sink: table %s: %w (upserts, de-duplication and idempotent replay need one; add a primary key at the source or choose a unique key)", t.ID, ErrNoKey))
	}
	p := &tablePlan{
		t:       t,
		target:  s.targetID(t.ID),
		cols:    make([]string, len(t.Columns)),
		qcols:   make([]string, len(t.Columns)),
		enc:     make([]encoder, len(t.Columns)),
		isKey:   make([]bool, len(t.Columns)),
		sqlText: make(map[string]string),
	}
	p.qtarget = p.target.Sanitize()
	s.stageN++
	p.stageID = s.stageN
	for i, c := range t.Columns {
		e, err := encoderFor(c.Type)
		if err != nil {
			return nil, sluice.Permanent(fmt.Errorf("postgres sink: table %s column %q: %w", t.ID, c.Name, err))
		}
		p.cols[i] = c.Name
		p.qcols[i] = quoteIdent(c.Name)
		p.enc[i] = e
	}
	for _, k := range t.Key {
		p.isKey[k] = true
	}
	p.keyOf = keyFunc(t)
	return p, nil
}

// encode converts the non-key or key cells of r (selected by only, nil for
// all) into dst; Unchanged cells become NULL and set their bit in mask.
func (p *tablePlan) encode(r sluice.Row, dst []any, keysOnly bool) ([]any, error) {
	for i, v := range r {
		if v == nil || (keysOnly && !p.isKey[i]) {
			dst[i] = nil
			continue
		}
		if sluice.IsUnchanged(v) {
			dst[i] = nil
			continue
		}
		ev, err := p.enc[i](v)
		if err != nil {
			return nil, fmt.Errorf("table %s column %q: %w", p.t.ID, p.cols[i], err)
		}
		dst[i] = ev
	}
	return dst, nil
}

// keyDesc renders the key of r for error messages.
func (p *tablePlan) keyDesc(r sluice.Row) string {
	var b strings.Builder
	for i, k := range p.t.Key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.cols[k])
		b.WriteByte('=')
		fmt.Fprint(&b, r[k])
	}
	return b.String()
}

// keyFunc returns a function giving a comparable map key for a row's key
// values. A single key column of a comparable kind is its own map key;
// anything else is packed into a string.
func keyFunc(t *sluice.Table) func(r sluice.Row) (any, error) {
	if len(t.Key) == 1 {
		k := t.Key[0]
		switch t.Columns[k].Type.Kind {
		case sluice.KindBytes, sluice.KindGeometry, sluice.KindJSON:
		default:
			return func(r sluice.Row) (any, error) {
				v := r[k]
				if v == nil || sluice.IsUnchanged(v) {
					return nil, fmt.Errorf("table %s: key column %q is NULL or not sent", t.ID, t.Columns[k].Name)
				}
				if tm, ok := v.(time.Time); ok {
					return [2]int64{tm.Unix(), int64(tm.Nanosecond())}, nil
				}
				return v, nil
			}
		}
	}
	key := t.Key
	return func(r sluice.Row) (any, error) {
		var b []byte
		for _, k := range key {
			v := r[k]
			switch x := v.(type) {
			case nil:
				return nil, fmt.Errorf("table %s: key column %q is NULL", t.ID, t.Columns[k].Name)
			case int64:
				b = binary.BigEndian.AppendUint64(append(b, 'i'), uint64(x))
			case uint64:
				b = binary.BigEndian.AppendUint64(append(b, 'u'), x)
			case string:
				b = appendLenPrefixed(append(b, 's'), x)
			case sluice.Decimal:
				b = appendLenPrefixed(append(b, 'd'), string(x))
			case []byte:
				b = appendLenPrefixed(append(b, 'b'), string(x))
			case sluice.JSON:
				b = appendLenPrefixed(append(b, 'j'), string(x))
			case sluice.Geometry:
				b = appendLenPrefixed(append(b, 'g'), string(x))
			case bool:
				if x {
					b = append(b, 'T')
				} else {
					b = append(b, 'F')
				}
			case float32:
				b = binary.BigEndian.AppendUint32(append(b, 'f'), math.Float32bits(x))
			case float64:
				b = binary.BigEndian.AppendUint64(append(b, 'F'), math.Float64bits(x))
			case time.Time:
				b = binary.BigEndian.AppendUint64(append(b, 't'), uint64(x.Unix()))
				b = binary.BigEndian.AppendUint32(b, uint32(x.Nanosecond()))
			case time.Duration:
				b = binary.BigEndian.AppendUint64(append(b, 'D'), uint64(x))
			case sluice.Date:
				b = appendLenPrefixed(append(b, 'a'), x.String())
			default:
				if sluice.IsUnchanged(v) {
					return nil, fmt.Errorf("table %s: key column %q not sent", t.ID, t.Columns[k].Name)
				}
				b = appendLenPrefixed(append(b, '?'), fmt.Sprint(x))
			}
		}
		return string(b), nil
	}
}

func appendLenPrefixed(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// itoa is strconv.Itoa.
func itoa(i int) string { return strconv.Itoa(i) }

// stageName is the temp table that stages changes for this table version.
func (p *tablePlan) stageName() string { return "sluice_stage_" + itoa(p.stageID) }

// stageCols names the stage columns: c0..cN-1 for the table's columns, then
// the operation code and the unchanged-mask id. Positional names never clash
// with user column names.
func (p *tablePlan) stageCols() []string {
	out := make([]string, 0, len(p.cols)+2)
	for i := range p.cols {
		out = append(out, "c"+itoa(i))
	}
	return append(out, "op", "m")
}

func (p *tablePlan) qstage() string { return pgx.Identifier{"pg_temp", p.stageName()}.Sanitize() }

// match renders the key join between target t and stage s.
func (p *tablePlan) match() string {
	var b strings.Builder
	for i, k := range p.t.Key {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString("t." + p.qcols[k] + " = s.c" + itoa(k))
	}
	return b.String()
}

func (p *tablePlan) cached(key string, build func() string) string {
	if q, ok := p.sqlText[key]; ok {
		return q
	}
	q := build()
	p.sqlText[key] = q
	return q
}

func (p *tablePlan) deleteSQL() string {
	return p.cached("delete", func() string {
		return "DELETE FROM " + p.qtarget + " AS t USING " + p.qstage() + " AS s WHERE s.op IN (" +
			itoa(opDelete) + ", " + itoa(opDeleteExists) + ") AND " + p.match()
	})
}

// conflictSQL finds the first staged change that conflicts with the target:
// its op and its key values as text.
func (p *tablePlan) conflictSQL() string {
	return p.cached("conflict", func() string {
		var keys []string
		for _, k := range p.t.Key {
			keys = append(keys, "s.c"+itoa(k)+"::text")
		}
		exists := "EXISTS (SELECT 1 FROM " + p.qtarget + " AS t WHERE " + p.match() + ")"
		return "SELECT s.op, ARRAY[" + strings.Join(keys, ", ") + "] FROM " + p.qstage() + " AS s WHERE (s.op IN (" +
			itoa(opUpdateExists) + ", " + itoa(opDeleteExists) + ") AND NOT " + exists + ") OR (s.op = " +
			itoa(opInsertNew) + " AND " + exists + ") LIMIT 1"
	})
}

// applySQL renders the statement applying staged rows of one op and mask;
// columns whose mask byte is set (Unchanged) are left out. Empty when there
// is nothing to set.
func (p *tablePlan) applySQL(op, maskID int, mask string, policy Conflict) string {
	key := "apply" + itoa(op) + "/" + itoa(maskID) + "/" + mask + "/" + policy.String()
	return p.cached(key, func() string {
		where := " WHERE s.op = " + itoa(op) + " AND s.m = " + itoa(maskID)
		var b strings.Builder
		switch op {
		case opUpdateExists:
			b.WriteString("UPDATE " + p.qtarget + " AS t SET ")
			n := 0
			for j := range p.cols {
				if p.isKey[j] || mask[j] != 0 {
					continue
				}
				if n > 0 {
					b.WriteString(", ")
				}
				n++
				b.WriteString(p.qcols[j] + " = s.c" + itoa(j))
			}
			if n == 0 {
				return ""
			}
			b.WriteString(" FROM " + p.qstage() + " AS s" + where + " AND " + p.match())
		case opUpsert, opInsertNew:
			var cols, vals, sets []string
			for j := range p.cols {
				if mask[j] != 0 {
					continue
				}
				cols = append(cols, p.qcols[j])
				vals = append(vals, "s.c"+itoa(j))
				if !p.isKey[j] {
					sets = append(sets, p.qcols[j]+" = EXCLUDED."+p.qcols[j])
				}
			}
			b.WriteString("INSERT INTO " + p.qtarget + " (" + strings.Join(cols, ", ") + ") SELECT " +
				strings.Join(vals, ", ") + " FROM " + p.qstage() + " AS s" + where)
			if op == opUpsert {
				var keys []string
				for _, k := range p.t.Key {
					keys = append(keys, p.qcols[k])
				}
				b.WriteString(" ON CONFLICT (" + strings.Join(keys, ", ") + ") DO ")
				if len(sets) == 0 {
					b.WriteString("NOTHING")
				} else {
					b.WriteString("UPDATE SET " + strings.Join(sets, ", "))
				}
			} else if policy == ConflictIgnore {
				b.WriteString(" ON CONFLICT DO NOTHING")
			}
		}
		return b.String()
	})
}
