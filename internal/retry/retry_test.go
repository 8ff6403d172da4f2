package retry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
)

func TestRecoversWithinWindow(t *testing.T) {
	n := 0
	err := Policy{Window: time.Second, Initial: time.Millisecond}.Do(context.Background(), func(context.Context) error {
		n++
		if n < 4 {
			return errors.New("down")
		}
		return nil
	}, nil)
	if err != nil || n != 4 {
		t.Fatalf("err=%v n=%d, want nil after 4 calls", err, n)
	}
}

func TestGivesUpAfterWindow(t *testing.T) {
	start := time.Now()
	cause := errors.New("connection refused")
	err := Policy{Window: 50 * time.Millisecond, Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond}.Do(context.Background(),
		func(context.Context) error { return cause }, nil)
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "failing since") {
		t.Fatalf("err = %v, want wrapped cause with 'failing since'", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("gave up after %s, want about the 50ms window", el)
	}
}

func TestPermanentStopsAtOnce(t *testing.T) {
	n := 0
	cause := errors.New("duplicate key")
	err := Policy{Window: time.Hour}.Do(context.Background(), func(context.Context) error {
		n++
		return sluice.Permanent(cause)
	}, nil)
	if n != 1 || !errors.Is(err, cause) || !sluice.IsPermanent(err) {
		t.Fatalf("n=%d err=%v, want one call and the permanent cause", n, err)
	}
}

func TestContextCancelStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := Policy{Window: time.Hour, Initial: 10 * time.Millisecond}.Do(ctx, func(context.Context) error { return errors.New("x") }, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}
