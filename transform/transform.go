package transform

import "github.com/sluicecdc/sluice"

// Transform rewrites changes between a source and its sinks.
//
// Bind is called once for each table version (each *sluice.Table) the
// pipeline meets, before any change of that version. It returns an error
// when the transform's configuration does not fit the table (an unknown
// column, a filter of the wrong type); the pipeline reports such errors when
// it is built or prechecked, never mid-stream if it can help it.
type Transform interface {
	Bind(t *sluice.Table) (Mapper, error)
}

// Mapper rewrites the changes of one table version.
//
// Map of one Mapper is called by one goroutine at a time (the pipeline
// serializes it), so a Mapper may keep scratch state such as buffers or row
// slabs; Bind may be called concurrently and may return a fresh Mapper
// each time for the same table.
type Mapper interface {
	// Table returns the output table version, or nil when every change of
	// the bound table is dropped. The same pointer is returned every time.
	Table() *sluice.Table
	// Map appends what c becomes (zero, one or more changes) to out and
	// returns it. c.Table is the bound table; output changes carry Table().
	// Map must not modify c's rows in place; it builds new rows instead. It
	// must keep c.Pos, c.Time and c.Size on the last change it outputs for c,
	// or return nothing (the pipeline keeps the position itself).
	Map(c sluice.Change, out []sluice.Change) ([]sluice.Change, error)
}

// Func adapts a Bind function to Transform.
type Func func(t *sluice.Table) (Mapper, error)

// Bind calls f.
func (f Func) Bind(t *sluice.Table) (Mapper, error) { return f(t) }
