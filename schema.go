package sluice

import (
	"fmt"
	"strings"
)

// TableID names a table. For MySQL the Schema is the database.
type TableID struct {
	Schema string
	Name   string
}

// String renders the id as schema.name, unquoted; use it for messages and
// map keys, never to build SQL (sinks quote each part themselves).
func (id TableID) String() string {
	if id.Schema == "" {
		return id.Name
	}
	return id.Schema + "." + id.Name
}

// Column describes one column of a table version.
type Column struct {
	// Name is the column's name exactly as the source spells it.
	Name string
	// Type is the neutral type; values in rows follow its Kind's representation.
	Type Type
	// Nullable reports whether the column admits NULL.
	Nullable bool
	// Native is the source's own type text, such as "bigint(20) unsigned" or
	// "numeric(12,2)", for targets of the same engine. It may be empty.
	Native string
}

// Table is one version of a table's schema. It is immutable once built:
// a schema change makes a new *Table, so a pointer identifies a version and
// transforms and sinks may cache per-pointer work.
type Table struct {
	ID      TableID
	Columns []Column
	// Key holds the indexes into Columns of the primary key (or the unique key
	// chosen in its place), in key order. Empty for a table without a key.
	Key []int
}

// NewTable builds a table version and checks it: columns need distinct,
// non-empty names and a valid kind; key indexes must be in range and unique.
func NewTable(id TableID, cols []Column, key []int) (*Table, error) {
	if id.Name == "" {
		return nil, fmt.Errorf("sluice: table %q: empty table name", id)
	}
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if c.Name == "" {
			return nil, fmt.Errorf("sluice: table %s: column %d has no name", id, i)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("sluice: table %s: column %q appears twice", id, c.Name)
		}
		seen[c.Name] = true
		if c.Type.Kind == KindInvalid || c.Type.Kind >= kindCount {
			return nil, fmt.Errorf("sluice: table %s: column %q has no valid kind", id, c.Name)
		}
	}
	inKey := make(map[int]bool, len(key))
	for _, k := range key {
		if k < 0 || k >= len(cols) || inKey[k] {
			return nil, fmt.Errorf("sluice: table %s: key column index %d is out of range or repeated", id, k)
		}
		inKey[k] = true
	}
	return &Table{ID: id, Columns: cols, Key: key}, nil
}

// ColumnIndex returns the index of the column named name, or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// HasKey reports whether the table has a primary (or chosen unique) key.
func (t *Table) HasKey() bool { return len(t.Key) > 0 }

// KeyNames returns the names of the key columns in key order.
func (t *Table) KeyNames() []string {
	names := make([]string, len(t.Key))
	for i, k := range t.Key {
		names[i] = t.Columns[k].Name
	}
	return names
}

// SameShape reports whether t and u have the same id, columns (names, types,
// nullability) and key; the Native texts are ignored.
func (t *Table) SameShape(u *Table) bool {
	if t == u {
		return true
	}
	if t.ID != u.ID || len(t.Columns) != len(u.Columns) || len(t.Key) != len(u.Key) {
		return false
	}
	for i := range t.Columns {
		a, b := t.Columns[i], u.Columns[i]
		if a.Name != b.Name || a.Nullable != b.Nullable || !a.Type.Equal(b.Type) {
			return false
		}
	}
	for i := range t.Key {
		if t.Key[i] != u.Key[i] {
			return false
		}
	}
	return true
}

// String renders the table for messages: schema.name(col type, ...).
func (t *Table) String() string {
	var b strings.Builder
	b.WriteString(t.ID.String())
	b.WriteByte('(')
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name)
		b.WriteByte(' ')
		b.WriteString(c.Type.String())
	}
	b.WriteByte(')')
	return b.String()
}

// Row holds one value per column of its Table, in column order. A value is
// nil for NULL, Unchanged for a value not sent, and otherwise the Go
// representation of the column's Kind.
type Row []any

// Key returns the key values of r for table t, appended to dst.
func (r Row) Key(t *Table, dst []any) []any {
	for _, k := range t.Key {
		dst = append(dst, r[k])
	}
	return dst
}
