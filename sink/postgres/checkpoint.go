package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/sluicecdc/sluice"
)

// saveCheckpoint upserts the position inside the batch transaction.
func (s *Sink) saveCheckpoint(ctx context.Context, tx pgx.Tx, name string, pos sluice.Position) error {
	_, err := tx.Exec(ctx, "INSERT INTO "+s.checkpointIdent()+` (name, position, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`, name, []byte(pos))
	if err != nil {
		return fmt.Errorf("postgres sink: saving checkpoint %q: %w", name, err)
	}
	return nil
}

// LoadCheckpoint returns the position stored under name by the last
// committed batch, or nil when there is none.
func (s *Sink) LoadCheckpoint(ctx context.Context, name string) (sluice.Position, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.checkpointIdent()).Scan(&exists); err != nil {
		return nil, fmt.Errorf("postgres sink: loading checkpoint %q: %w", name, s.redact(err))
	}
	if !exists {
		return nil, nil
	}
	var pos []byte
	err := s.pool.QueryRow(ctx, "SELECT position FROM "+s.checkpointIdent()+" WHERE name = $1", name).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres sink: loading checkpoint %q: %w", name, s.redact(err))
	}
	return sluice.Position(pos), nil
}
