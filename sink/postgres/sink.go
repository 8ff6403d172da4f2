package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
)

// Interface checks.
var (
	_ sink.Sink         = (*Sink)(nil)
	_ sink.SchemaSyncer = (*Sink)(nil)
	_ sink.Checkpointer = (*Sink)(nil)
	_ sink.Prechecker   = (*Sink)(nil)
)

// ErrConflict is wrapped by the permanent error Write returns when a change
// conflicts with the target under ConflictFail.
var ErrConflict = errors.New("conflict")

// ErrDDL is wrapped by the permanent error Write returns for a schema change
// it cannot apply under DDLFail.
var ErrDDL = errors.New("unsupported schema change")

// ErrExistingTable is wrapped by the error SyncSchema returns when target
// tables exist under ExistingFail.
var ErrExistingTable = errors.New("target table already exists")

// ErrNoKey is wrapped by errors about a table without a key: upserts,
// de-duplication and replay need one.
var ErrNoKey = errors.New("table has no primary key")

// Sink writes changes to PostgreSQL. Create it with New.
type Sink struct {
	cfg    Config
	pcfg   *pgx.ConnConfig
	pool   *pgxpool.Pool
	log    *slog.Logger
	secret string // password, scrubbed from error texts

	mu      sync.Mutex // guards plans
	plans   map[*sluice.Table]*tablePlan
	conn    *pgx.Conn       // the connection Write applies batches on
	staged  map[string]bool // stage tables present on conn
	stageN  int
	ensured bool // checkpoint schema and tables exist
	// lastFailed is set when a Write failed; the next Write checks the
	// checkpoint first, in case the failure was a COMMIT that got no answer.
	lastFailed bool
}

// New validates cfg and returns a sink. It does not connect: connections
// are opened when first needed, so a target that is down surfaces in
// Precheck or as a retryable Write error.
func New(ctx context.Context, cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pcfg, err := pgx.ParseConfig(cfg.ConnString)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: parsing ConnString (not shown): %w", redactErr(err, cfg.ConnString, ""))
	}
	if cfg.ReplicaRole {
		pcfg.RuntimeParams["session_replication_role"] = "replica"
	}
	poolCfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("postgres sink: building pool config: %w", err)
	}
	poolCfg.ConnConfig = pcfg.Copy()
	// Pooled connections describe each statement afresh, so a column type
	// changed by DDL (ours or anyone's) never meets a stale cached description.
	poolCfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	poolCfg.MaxConns = int32(cfg.LoadWorkers + 1)
	// Pool connections serve infrequent work (schema, checkpoint reads,
	// prechecks, parallel loads): check each is alive, so a server restart
	// costs a reconnect rather than a failed call.
	poolCfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: creating pool: %w", redactErr(err, cfg.ConnString, pcfg.Password))
	}
	return &Sink{
		cfg:    cfg,
		pcfg:   pcfg,
		pool:   pool,
		log:    cfg.Logger.With("sink", "postgres"),
		secret: pcfg.Password,
		plans:  make(map[*sluice.Table]*tablePlan),
		staged: make(map[string]bool),
	}, nil
}

// Close releases the sink's connections.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close(context.Background())
		s.conn = nil
	}
	s.pool.Close()
	return nil
}

// writeConn returns the connection batches are applied on, connecting when
// there is none (first use, or after the previous one broke).
func (s *Sink) writeConn(ctx context.Context) (*pgx.Conn, error) {
	if s.conn != nil && !s.conn.IsClosed() {
		return s.conn, nil
	}
	s.dropConn()
	c, err := pgx.ConnectConfig(ctx, s.pcfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", s.redact(err))
	}
	s.conn = c
	return c, nil
}

// dropConn forgets the write connection and the temp tables that lived on it.
func (s *Sink) dropConn() {
	if s.conn != nil {
		_ = s.conn.Close(context.Background())
		s.conn = nil
	}
	clear(s.staged)
}

// targetID returns the target schema and table name for a source table.
func (s *Sink) targetID(id sluice.TableID) pgx.Identifier {
	schema := id.Schema
	if s.cfg.TargetSchema != "" {
		schema = s.cfg.TargetSchema
	}
	if schema == "" {
		schema = "public"
	}
	return pgx.Identifier{schema, id.Name}
}

func (s *Sink) checkpointIdent() string {
	return pgx.Identifier{s.cfg.CheckpointSchema, s.cfg.CheckpointTable}.Sanitize()
}

func (s *Sink) registryIdent() string {
	return pgx.Identifier{s.cfg.CheckpointSchema, s.cfg.CheckpointTable + "_tables"}.Sanitize()
}

func (s *Sink) redact(err error) error { return redactErr(err, s.cfg.ConnString, s.secret) }

// redactErr hides the connection string and password in err's text while
// keeping err in the chain for errors.Is/As.
func redactErr(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, sec := range secrets {
		if sec != "" && strings.Contains(msg, sec) {
			msg = strings.ReplaceAll(msg, sec, "[redacted]")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// classify marks errors retrying cannot fix as permanent: data exceptions
// (22), integrity violations (23), syntax and undefined objects (42),
// insufficient privileges.
func classify(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && len(pe.Code) == 5 {
		switch pe.Code[:2] {
		case "22", "23", "42":
			return sluice.Permanent(err)
		}
	}
	return err
}

// quoteIdent quotes one identifier.
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }
