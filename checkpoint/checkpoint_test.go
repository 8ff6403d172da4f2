package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
)

// testStore is the behaviour every Store must have (P2).
func testStore(t *testing.T, s Store) {
	ctx := context.Background()
	got, err := s.Load(ctx, "never-saved")
	if err != nil || got != nil {
		t.Fatalf("Load of unknown name = %q, %v; want nil, nil", got, err)
	}
	for _, name := range []string{"p1", "with/slash and space", "ünï", ""} {
		for i := 0; i < 3; i++ {
			want := sluice.Position(fmt.Sprintf(`{"file":"bin.%06d","pos":%d}`, i, i*100))
			if err := s.Save(ctx, name, want); err != nil {
				t.Fatalf("Save(%q): %v", name, err)
			}
			got, err := s.Load(ctx, name)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Load(%q) = %q, %v; want %q", name, got, err, want)
			}
		}
	}
	a, _ := s.Load(ctx, "p1")
	b, _ := s.Load(ctx, "with/slash and space")
	if !bytes.Equal(a, b) {
		t.Fatalf("names saved last with the same value differ: %q %q", a, b)
	}
	// Returned positions are copies: changing one must not change the store.
	a[0] = 'X'
	c, _ := s.Load(ctx, "p1")
	if c[0] == 'X' {
		t.Fatal("Load returned the store's own buffer")
	}
}

func TestMemoryStore(t *testing.T) { testStore(t, NewMemory()) }

func TestFileStore(t *testing.T) {
	f, err := NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, f)
}

// A crash between writing the new file and renaming it must leave the last
// good checkpoint, and the leftover temp file must not confuse later use (P2).
func TestFileStoreCrashBeforeRenameKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	f, _ := NewFile(dir)
	ctx := context.Background()
	good := sluice.Position("good")
	if err := f.Save(ctx, "p", good); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("simulated crash")
	f.beforeRename = func() error { return crash }
	if err := f.Save(ctx, "p", sluice.Position("newer")); !errors.Is(err, crash) {
		t.Fatalf("Save = %v, want the simulated crash", err)
	}
	// A process that died there leaves its temp file behind; simulate that too.
	if err := os.WriteFile(filepath.Join(dir, ".ckpt-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	f2, _ := NewFile(dir)
	got, err := f2.Load(ctx, "p")
	if err != nil || string(got) != "good" {
		t.Fatalf("after crash Load = %q, %v; want the last good checkpoint", got, err)
	}
	if err := f2.Save(ctx, "p", sluice.Position("after")); err != nil {
		t.Fatal(err)
	}
	if got, _ := f2.Load(ctx, "p"); string(got) != "after" {
		t.Fatalf("Load = %q, want after", got)
	}
}

func TestFileStoreDetectsCorruption(t *testing.T) {
	dir := t.TempDir()
	f, _ := NewFile(dir)
	ctx := context.Background()
	if err := f.Save(ctx, "p", sluice.Position("position-bytes")); err != nil {
		t.Fatal(err)
	}
	p := f.path("p")
	data, _ := os.ReadFile(p)
	data[len(data)-1] ^= 0xff
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(ctx, "p"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load of a damaged file = %v, want ErrCorrupt", err)
	}
	if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(ctx, "p"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load of garbage = %v, want ErrCorrupt", err)
	}
}

// TestFileStoreSurvivesKill saves increasing positions in a child process,
// kills it with SIGKILL at random moments, and checks each time that the
// checkpoint on disk is intact and no older than the last one the child
// reported as saved (P2).
func TestFileStoreSurvivesKill(t *testing.T) {
	if dir := os.Getenv("SLUICE_CKPT_CHILD_DIR"); dir != "" {
		childSaveLoop(dir)
		return
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for round := 0; round < 5; round++ {
		cmd := exec.Command(exe, "-test.run=^TestFileStoreSurvivesKill$")
		cmd.Env = append(os.Environ(), "SLUICE_CKPT_CHILD_DIR="+dir, "SLUICE_CKPT_START="+strconv.Itoa(last+1))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read the child's "saved N" reports for a while, then kill it.
		reported := make(chan int, 1024)
		go func() {
			buf := make([]byte, 0, 64)
			one := make([]byte, 1)
			for {
				if _, err := out.Read(one); err != nil {
					close(reported)
					return
				}
				if one[0] == '\n' {
					if n, err := strconv.Atoi(string(buf)); err == nil {
						reported <- n
					}
					buf = buf[:0]
					continue
				}
				buf = append(buf, one[0])
			}
		}()
		time.Sleep(time.Duration(30+round*17) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		maxReported := last
		for n := range reported {
			if n > maxReported {
				maxReported = n
			}
		}
		f, _ := NewFile(dir)
		got, err := f.Load(context.Background(), "killed")
		if err != nil {
			t.Fatalf("round %d: Load after SIGKILL: %v", round, err)
		}
		n, err := strconv.Atoi(string(got))
		if err != nil {
			t.Fatalf("round %d: checkpoint %q is not one the child wrote", round, got)
		}
		if n < maxReported {
			t.Fatalf("round %d: checkpoint %d is older than %d, which Save had returned for", round, n, maxReported)
		}
		last = n
	}
	if last < 1 {
		t.Fatalf("child saved nothing (last=%d); the test did not exercise Save", last)
	}
}

func childSaveLoop(dir string) {
	f, err := NewFile(dir)
	if err != nil {
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Getenv("SLUICE_CKPT_START"))
	for ; ; n++ {
		if err := f.Save(context.Background(), "killed", sluice.Position(strconv.Itoa(n))); err != nil {
			os.Exit(3)
		}
		fmt.Println(n)
	}
}
