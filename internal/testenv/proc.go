package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// InstallCommand is the command that installs every server binary testenv
// needs on Debian. It appears in every ErrMissingBinary message.
const InstallCommand = "apt-get update && apt-get install -y mariadb-server postgresql"

// ErrMissingBinary is returned (wrapped) when a server binary is not
// installed. The message names the binary and InstallCommand.
var ErrMissingBinary = errors.New("server binary not installed")

// ErrNotRunning is returned by Stop when the server is not running.
var ErrNotRunning = errors.New("server is not running")

// dirPrefix prefixes every temporary directory testenv creates, so stale
// directories of crashed test binaries can be found and removed.
const dirPrefix = "sluice-testenv-"

// findBinary returns the path of the first of names found in $PATH or in
// extraDirs, or an error wrapping ErrMissingBinary.
func findBinary(extraDirs []string, names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, d := range extraDirs {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("testenv: %s not found in $PATH or %s: %w; install it with: %s (as root; `make deps` does this)",
		strings.Join(names, "/"), strings.Join(extraDirs, ", "), ErrMissingBinary, InstallCommand)
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago. It
// never returns the well-known ports of the machine's own services.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("testenv: finding a free loopback port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port == 3306 || port == 5432 || port == 9092 {
			continue
		}
		return port, nil
	}
	return 0, errors.New("testenv: no free loopback port found")
}

// makeTempDir creates a private directory under os.TempDir() recording the
// owning process, after removing stale directories of dead test processes.
func makeTempDir(kind string) (string, error) {
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix+kind+"-")
	if err != nil {
		return "", fmt.Errorf("testenv: creating a temp dir for %s: %w", kind, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("testenv: writing owner of %s: %w", dir, err)
	}
	return dir, nil
}

var staleOnce sync.Once

// removeStaleDirs removes, once per process, testenv directories whose
// owning process no longer exists and that were not kept on purpose
// (SLUICE_KEEP_SERVERS). Their servers died with their owner (parent-death
// signal), so only the files remain.
func removeStaleDirs() {
	staleOnce.Do(func() {
		entries, err := os.ReadDir(os.TempDir())
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) {
				continue
			}
			dir := filepath.Join(os.TempDir(), e.Name())
			if _, err := os.Stat(filepath.Join(dir, "keep")); err == nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
			if err != nil {
				continue
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || pid <= 0 || pid == os.Getpid() {
				continue
			}
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				os.RemoveAll(dir)
			}
		}
	})
}

// keepServers reports whether SLUICE_KEEP_SERVERS asks to keep the data
// directories of a failed test run.
func keepServers() bool {
	v := os.Getenv("SLUICE_KEEP_SERVERS")
	return v != "" && v != "0" && v != "false"
}

// markKept marks dir so that it is not removed as stale later.
func markKept(dir string) {
	_ = os.WriteFile(filepath.Join(dir, "keep"), []byte("kept by SLUICE_KEEP_SERVERS\n"), 0o644)
}

// tail returns the last n lines of the file at path, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// proc is one running server process.
type proc struct {
	cmd      *exec.Cmd
	what     string
	logPath  string
	done     chan struct{} // closed when the process has exited
	err      error         // exit status; valid after done is closed
	stopping atomic.Bool   // set when testenv itself stops the process
	ready    atomic.Bool   // set once the server accepted connections
}

// spawnReq asks the spawner to start a command.
type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

var (
	spawnOnce sync.Once
	spawnCh   chan spawnReq
)

// spawn starts cmd from one goroutine locked to its OS thread for the
// life of the process: Linux sends the parent-death signal when the
// creating thread exits, so a thread that exits could kill a server in the
// middle of the tests.
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for r := range spawnCh {
				r.err <- r.cmd.Start()
			}
		}()
	})
	r := spawnReq{cmd: cmd, err: make(chan error, 1)}
	spawnCh <- r
	return <-r.err
}

// startProc starts cmd with its output appended to logPath. The process
// gets deathSig when this process dies, so servers never outlive tests. If
// the process exits without testenv stopping it (a server crash), the tail
// of its log is printed to stderr.
func startProc(cmd *exec.Cmd, what, logPath string, deathSig syscall.Signal) (*proc, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testenv: opening log %s: %w", logPath, err)
	}
	cmd.Stdout = lf
	cmd.Stderr = lf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = deathSig
	if err := spawn(cmd); err != nil {
		lf.Close()
		return nil, fmt.Errorf("testenv: starting %s: %w", cmd.Path, err)
	}
	p := &proc{cmd: cmd, what: what, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		if p.ready.Load() && !p.stopping.Load() {
			fmt.Fprintf(os.Stderr, "testenv: %s exited unexpectedly (%v); last lines of %s:\n%s\n", what, p.err, logPath, tail(logPath, 80))
		}
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to grace for the process to exit, then kills
// it.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) error {
	p.stopping.Store(true)
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("testenv: %s did not stop within %s after %v; killed", filepath.Base(p.cmd.Path), grace, sig)
}

// waitReady polls ready until it succeeds, the process exits, or ctx ends.
func waitReady(ctx context.Context, p *proc, what, logPath string, ready func(context.Context) error) error {
	var last error
	for {
		if p.exited() {
			return fmt.Errorf("testenv: %s exited during startup (%v); last lines of %s:\n%s", what, p.err, logPath, tail(logPath, 30))
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = ready(cctx)
		cancel()
		if last == nil {
			p.ready.Store(true)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s not accepting connections before %v (last error: %v); last lines of %s:\n%s", what, ctx.Err(), last, logPath, tail(logPath, 30))
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// portInUse reports whether a startup failure log says the port was taken.
func portInUse(logPath string) bool {
	s := tail(logPath, 30)
	return strings.Contains(s, "Address already in use") || strings.Contains(s, "could not bind")
}

// randomSecret returns a random alphanumeric password.
func randomSecret() string { return "Sl" + rand.Text()[:20] }

// server is what MariaDBServer and PostgresServer share: a server process
// with a data directory, a port and a log, stopped with its own signals.
type server struct {
	kind             string         // "MariaDB", "PostgreSQL": for messages
	stopSig, killSig syscall.Signal // clean shutdown; crash-like shutdown

	mu      sync.Mutex
	dir     string
	port    int
	logPath string
	p       *proc
	closed  bool
}

// Dir returns the server's temporary directory (data and logs).
func (s *server) Dir() string { return s.dir }

// LogPath returns the server's log file.
func (s *server) LogPath() string { return s.logPath }

// Stop shuts the server down cleanly (MariaDB: SIGTERM; PostgreSQL: fast
// shutdown, SIGINT, which ends sessions) and waits for it to exit. Start
// brings it back with the same data and port.
func (s *server) Stop() error { return s.halt(s.stopSig) }

// Kill stops the server as a crash would (MariaDB: SIGKILL; PostgreSQL:
// immediate shutdown without a checkpoint, SIGQUIT) and waits for it to
// exit. Start recovers it.
func (s *server) Kill() error { return s.halt(s.killSig) }

func (s *server) halt(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil || s.p.exited() {
		return ErrNotRunning
	}
	return s.p.stop(sig, time.Minute)
}

// Close stops the server and removes its directory.
func (s *server) Close() error {
	s.closeKeep(false)
	return nil
}

// closeKeep stops the server and removes its directory unless keep.
func (s *server) closeKeep(keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.p != nil {
		_ = s.p.stop(s.stopSig, 30*time.Second)
	}
	if keep {
		markKept(s.dir)
		fmt.Fprintf(os.Stderr, "testenv: kept %s data and logs in %s\n", s.kind, s.dir)
		return
	}
	os.RemoveAll(s.dir)
}

// start runs cmd as the server process, unless the server is closed or
// already running, and waits until ready succeeds; deathSig is sent to the
// process if this one dies.
func (s *server) start(ctx context.Context, cmd *exec.Cmd, deathSig syscall.Signal, ready func(context.Context) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("testenv: %s server was closed", s.kind)
	}
	if s.p != nil && !s.p.exited() {
		return nil
	}
	what := fmt.Sprintf("%s on port %d", s.kind, s.port)
	p, err := startProc(cmd, what, s.logPath, deathSig)
	if err != nil {
		return err
	}
	s.p = p
	if err := waitReady(ctx, p, what, s.logPath, ready); err != nil {
		_ = p.stop(deathSig, 10*time.Second)
		return err
	}
	return nil
}

// startOnPort gives the server port (0: a free one), tells setPort, and
// starts it; if another process took a free port between the pick and the
// start, it tries a new one, up to three times.
func (s *server) startOnPort(ctx context.Context, port int, setPort func(int), start func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		p := port
		if p == 0 {
			var err error
			if p, err = freePort(); err != nil {
				return err
			}
		}
		s.port = p
		setPort(p)
		err := start(ctx)
		if err == nil || port != 0 || attempt >= 3 || !portInUse(s.logPath) {
			return err
		}
	}
}
