package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/source"
)

// Precheck checks, without changing anything: connectivity and credentials,
// log_bin, binlog_format, binlog_row_image, server_id, privileges, that
// every selected table exists, has a primary key (or a configured key), a
// supported engine, and only supported column types and character sets.
func (s *Source) Precheck(ctx context.Context) []sluice.Check {
	var out []sluice.Check
	add := func(item string, ok bool, cause, remedy string) {
		c := sluice.Check{Item: item, Status: sluice.StatusOK}
		if !ok {
			c.Status, c.Cause, c.Remedy = sluice.StatusFail, cause, remedy
		}
		out = append(out, c)
	}
	warn := func(item, cause, remedy string) {
		out = append(out, sluice.Check{Item: item, Status: sluice.StatusWarn, Cause: cause, Remedy: remedy})
	}
	flavor, version, err := s.serverInfo(ctx)
	if err != nil {
		add("connect to "+s.cfg.Addr, false, s.connErr(err).Error(),
			"check Addr, that the server is running and reachable, and the user name and password")
		return out
	}
	add("connect to "+s.cfg.Addr+" ("+version+")", true, "", "")

	vars := map[string]string{}
	rows, err := s.db.QueryContext(ctx, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','server_id','gtid_mode')")
	if err == nil {
		for rows.Next() {
			var k, v string
			if rows.Scan(&k, &v) == nil {
				vars[strings.ToLower(k)] = v
			}
		}
		rows.Close()
	}
	add("log_bin", strings.EqualFold(vars["log_bin"], "ON") || vars["log_bin"] == "1",
		"the binary log is off (log_bin="+vars["log_bin"]+")", "start the server with --log-bin (and restart it)")
	add("binlog_format", strings.EqualFold(vars["binlog_format"], "ROW"),
		"binlog_format is "+vars["binlog_format"]+", row events are needed", "SET GLOBAL binlog_format = 'ROW' (and in the server config)")
	add("binlog_row_image", vars["binlog_row_image"] == "" || strings.EqualFold(vars["binlog_row_image"], "FULL"),
		"binlog_row_image is "+vars["binlog_row_image"]+", full before and after images are needed", "SET GLOBAL binlog_row_image = 'FULL' (and in the server config)")
	sid := vars["server_id"]
	add("server_id", sid != "" && sid != "0" && sid != fmt.Sprint(s.cfg.ServerID),
		fmt.Sprintf("server_id is %q and this reader uses %d", sid, s.cfg.ServerID),
		"give the server a non-zero server_id and Config.ServerID a different value")

	grants := s.grants(ctx)
	all := grants.has("ALL PRIVILEGES")
	add("privilege REPLICATION SLAVE", all || grants.has("REPLICATION SLAVE") || grants.has("REPLICATION REPLICA"),
		"user "+s.cfg.User+" lacks REPLICATION SLAVE", "GRANT REPLICATION SLAVE ON *.* TO the user")
	add("privilege REPLICATION CLIENT", all || grants.has("REPLICATION CLIENT") || grants.has("BINLOG MONITOR") || grants.has("SUPER"),
		"user "+s.cfg.User+" lacks REPLICATION CLIENT (BINLOG MONITOR on MariaDB)", "GRANT REPLICATION CLIENT ON *.* TO the user")
	add("privilege SELECT", all || grants.has("SELECT"), "user "+s.cfg.User+" lacks SELECT on the selected tables", "GRANT SELECT ON the databases to the user")
	if flavor == gomysql.MySQLFlavor && !(all || grants.has("LOCK TABLES")) {
		warn("privilege LOCK TABLES", "user "+s.cfg.User+" lacks LOCK TABLES, needed briefly to open a consistent snapshot on MySQL", "GRANT LOCK TABLES ON the databases to the user")
	}

	// selection
	rd := s.schemaReader()
	ids, err := rd.listTables(ctx, s.sel)
	if err != nil {
		add("list tables", false, err.Error(), "grant SELECT on the selected databases")
		return out
	}
	found := map[sluice.TableID]bool{}
	for _, id := range ids {
		found[id] = true
	}
	for _, p := range s.sel.incl {
		if p.literal() && p.table != "*" {
			id := sluice.TableID{Schema: p.db, Name: p.table}
			if !found[id] {
				add("table "+id.String()+": exists", false, "the table does not exist (or is excluded, or the user cannot see it)",
					"fix Config.Tables, create the table, or grant SELECT on it")
			}
		}
	}
	if len(ids) == 0 {
		add("table selection", false, "no table matches "+strings.Join(s.cfg.Tables, ", "), "fix Config.Tables")
	}
	for _, id := range ids {
		m, err := rd.load(ctx, id)
		if err != nil {
			add("table "+id.String()+": column types", false, err.Error(), "exclude the table or change the column's type")
			continue
		}
		if m == nil {
			continue
		}
		add("table "+id.String()+": primary key", m.t.HasKey(), "the table has no primary key, so rows cannot be chunked or matched",
			"add a primary key or name key columns in Config.Keys[\""+id.String()+"\"]")
		switch strings.ToLower(m.engine) {
		case "innodb", "":
			add("table "+id.String()+": storage engine", true, "", "")
		case "myisam", "aria", "memory":
			warn("table "+id.String()+": storage engine", "engine "+m.engine+" is not transactional: the snapshot is not a consistent cut for it",
				"ALTER TABLE ... ENGINE=InnoDB, or stop writes during the snapshot")
		default:
			add("table "+id.String()+": storage engine", false, "engine "+m.engine+" is not supported", "ALTER TABLE ... ENGINE=InnoDB")
		}
	}
	return out
}

type grantSet string

func (g grantSet) has(p string) bool { return strings.Contains(string(g), strings.ToUpper(p)) }

// roles reports whether the user holds roles, whose privileges SHOW GRANTS
// does not list.
func (g grantSet) roles() bool { return strings.Contains(string(g), "<ROLE>") }

var (
	grantRe     = regexp.MustCompile(`(?i)^GRANT (.*?) ON `)
	roleGrantRe = regexp.MustCompile("(?i)^GRANT [`'].* TO ")
)

func (s *Source) grants(ctx context.Context) grantSet {
	rows, err := s.db.QueryContext(ctx, "SHOW GRANTS")
	if err != nil {
		return ""
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var g string
		if rows.Scan(&g) == nil {
			if m := grantRe.FindStringSubmatch(g); m != nil {
				b.WriteString(strings.ToUpper(m[1]))
				b.WriteByte(',')
			} else if roleGrantRe.MatchString(g) {
				b.WriteString("<ROLE>,")
			}
		}
	}
	return grantSet(b.String())
}

// verify runs the precheck before Run emits anything and checks that a
// resume position still exists on the server.
func (s *Source) verify(ctx context.Context, pos *position) error {
	rep := &sluice.Report{}
	roles := s.grants(ctx).roles()
	for _, c := range s.Precheck(ctx) {
		if roles && strings.HasPrefix(c.Item, "privilege") && c.Status == sluice.StatusFail {
			c.Status = sluice.StatusWarn // privileges may come from a role SHOW GRANTS does not expand: let the server decide
		}
		if pos != nil && c.Status == sluice.StatusFail && (strings.HasSuffix(c.Item, ": exists") || c.Item == "table selection") {
			// Resuming: a selected table may have been dropped since the
			// position (its DROP is still ahead in the binlog).
			c.Status = sluice.StatusWarn
		}
		rep.Add(c)
	}
	if !rep.OK() {
		return sluice.Permanent(fmt.Errorf("mysql source %s: %w", s.cfg.Addr, &sluice.PrecheckError{Report: rep}))
	}
	if pos != nil && pos.File != "" && !(s.cfg.ResumeByGTID && pos.GTID != "") {
		files, err := s.binlogFiles(ctx)
		if err != nil {
			return err
		}
		if !files[pos.File] {
			where := "binlog file " + pos.File
			if pos.GTID != "" {
				where += " (GTID set " + pos.GTID + ")"
			}
			return sluice.Permanent(fmt.Errorf("mysql source: %w: %s is no longer on %s (purged); start without a checkpoint to take a new snapshot",
				source.ErrPositionLost, where, s.cfg.Addr))
		}
	}
	return nil
}

func (s *Source) binlogFiles(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("mysql source: listing binlog files (SHOW BINARY LOGS): %w", s.connErr(err))
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string]bool{}
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out[string(vals[0])] = true
	}
	return out, rows.Err()
}

// quietLogger passes only warnings and errors of go-mysql's chatty logger.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelHandler{min: slog.LevelWarn, h: l.Handler()})
}

type levelHandler struct {
	min slog.Level
	h   slog.Handler
}

func (l levelHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.h.Enabled(ctx, lv)
}
func (l levelHandler) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }
func (l levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{l.min, l.h.WithAttrs(a)}
}
func (l levelHandler) WithGroup(n string) slog.Handler { return levelHandler{l.min, l.h.WithGroup(n)} }
