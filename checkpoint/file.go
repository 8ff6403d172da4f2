package checkpoint

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/sluicecdc/sluice"
)

// ErrCorrupt is wrapped by Load's error when a checkpoint file exists but
// does not hold a valid checkpoint (it was not written by File, or the disk
// damaged it). It is never the result of a crash during Save.
var ErrCorrupt = errors.New("checkpoint file is corrupt")

// fileMagic starts every checkpoint file; the version byte follows it.
const fileMagic = "SLCK\x01"

// File is a Store that keeps one file per pipeline name in a directory.
//
// Save is atomic and durable: it writes a temporary file in the same
// directory, fsyncs it, renames it over the checkpoint file and fsyncs the
// directory. A crash at any point leaves either the previous checkpoint or
// the new one, never a torn file. Each file carries a length and a CRC-32C
// so that damage is reported instead of misread.
type File struct {
	dir string
	mu  sync.Mutex // serializes Saves so temp names never collide

	// beforeRename, when set by tests, runs between the temp file's fsync and
	// the rename; an error aborts the Save there, as a crash would.
	beforeRename func() error
}

// NewFile returns a store keeping its files in dir, creating dir if needed.
func NewFile(dir string) (*File, error) {
	if dir == "" {
		return nil, errors.New("checkpoint: file store needs a directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint: creating directory %s: %w", dir, err)
	}
	return &File{dir: dir}, nil
}

// path returns the file for name; names that are not plain words are
// hex-encoded so that any name maps to exactly one safe file name.
func (f *File) path(name string) string {
	plain := name != ""
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			plain = false
			break
		}
	}
	if !plain {
		name = "x-" + hex.EncodeToString([]byte(name))
	}
	return filepath.Join(f.dir, name+".ckpt")
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Load returns the position saved under name, or nil if none was saved.
func (f *File) Load(_ context.Context, name string) (sluice.Position, error) {
	p := f.path(name)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: reading %s: %w", p, err)
	}
	pos, err := decodeFile(data)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w (remedy: restore it from a backup, or delete it to start over with a new initial sync)", p, err)
	}
	return pos, nil
}

func decodeFile(data []byte) (sluice.Position, error) {
	h := len(fileMagic)
	if len(data) < h+8 || string(data[:h]) != fileMagic {
		return nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	n := binary.BigEndian.Uint32(data[h:])
	sum := binary.BigEndian.Uint32(data[h+4:])
	body := data[h+8:]
	if uint32(len(body)) != n || crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: length or checksum mismatch", ErrCorrupt)
	}
	return sluice.Position(body), nil
}

// Save atomically and durably replaces the position saved under name.
func (f *File) Save(_ context.Context, name string, pos sluice.Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	final := f.path(name)
	data := make([]byte, 0, len(fileMagic)+8+len(pos))
	data = append(data, fileMagic...)
	data = binary.BigEndian.AppendUint32(data, uint32(len(pos)))
	data = binary.BigEndian.AppendUint32(data, crc32.Checksum(pos, castagnoli))
	data = append(data, pos...)

	tmp, err := os.CreateTemp(f.dir, ".ckpt-*")
	if err != nil {
		return fmt.Errorf("checkpoint: creating temp file in %s: %w", f.dir, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("checkpoint: syncing %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: closing %s: %w", tmpName, err)
	}
	if f.beforeRename != nil {
		if err := f.beforeRename(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmpName, final); err != nil {
		return fmt.Errorf("checkpoint: renaming into %s: %w", final, err)
	}
	ok = true
	d, err := os.Open(f.dir)
	if err != nil {
		return fmt.Errorf("checkpoint: opening %s to sync it: %w", f.dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("checkpoint: syncing directory %s: %w", f.dir, err)
	}
	return nil
}
