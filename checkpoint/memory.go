package checkpoint

import (
	"bytes"
	"context"
	"sync"

	"github.com/sluicecdc/sluice"
)

// Memory is a Store that keeps positions in memory: for tests and for
// pipelines whose sinks keep the checkpoint themselves. Safe for concurrent
// use. The zero value is ready.
type Memory struct {
	mu  sync.Mutex
	pos map[string]sluice.Position
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory { return &Memory{} }

// Load returns a copy of the position saved under name, or nil.
func (m *Memory) Load(_ context.Context, name string) (sluice.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pos[name]
	if !ok {
		return nil, nil
	}
	return bytes.Clone(p), nil
}

// Save keeps a copy of pos under name.
func (m *Memory) Save(_ context.Context, name string, pos sluice.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pos == nil {
		m.pos = make(map[string]sluice.Position)
	}
	m.pos[name] = bytes.Clone(pos)
	return nil
}
