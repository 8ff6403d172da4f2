package transform

import "github.com/sluicecdc/sluice"

// slabRows is how many rows one slab chunk holds.
const slabRows = 128

// rowSlab hands out new rows carved from larger chunks, so building a row
// costs an allocation only once per slabRows rows. Rows are immutable once
// handed out and each is capped (full slice expression), so appending to
// one never touches its neighbours. A chunk is freed by the garbage
// collector once none of its rows is referenced; memory held is bounded by
// the pipeline's buffer, plus one chunk.
//
// A rowSlab belongs to one Mapper and is not safe for concurrent use.
type rowSlab struct {
	buf []any
}

// alloc returns a zeroed row of n values.
func (s *rowSlab) alloc(n int) sluice.Row {
	if n == 0 {
		return sluice.Row{}
	}
	if len(s.buf) < n {
		s.buf = make([]any, n*slabRows)
	}
	r := s.buf[:n:n]
	s.buf = s.buf[n:]
	return r
}

// project builds a new row whose value j is src[idx[j]], or fixed[j] when
// idx[j] < 0.
func (s *rowSlab) project(src sluice.Row, idx []int, fixed []any) sluice.Row {
	r := s.alloc(len(idx))
	for j, i := range idx {
		if i >= 0 {
			r[j] = src[i]
		} else {
			r[j] = fixed[j]
		}
	}
	return r
}
