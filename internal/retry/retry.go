// Package retry runs an operation again with exponential backoff until it
// succeeds, fails permanently, or has been failing for longer than a window.
// Sources and the pipeline share it so that every component retries alike.
package retry

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicecdc/sluice"
)

// Policy says how long and how often to retry.
type Policy struct {
	// Window is how long an operation may keep failing, measured from its
	// first failure, before Do gives up. Zero means no retries.
	Window time.Duration
	// Initial is the first delay (default 100ms); each later delay doubles up
	// to Max (default 5s).
	Initial, Max time.Duration
}

// Do calls fn until it returns nil, returns an error marked with
// sluice.Permanent, ctx ends, or it has failed for longer than the window.
// onFail, if not nil, is called after each failure with the attempt number
// and the time of the first failure. The returned error says since when the
// operation failed and how often, and wraps the last error.
func (p Policy) Do(ctx context.Context, fn func(context.Context) error, onFail func(attempt int, since time.Time, err error)) error {
	initial, max := p.Initial, p.Max
	if initial <= 0 {
		initial = 100 * time.Millisecond
	}
	if max <= 0 {
		max = 5 * time.Second
	}
	var since time.Time
	delay := initial
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt == 1 {
			since = time.Now()
		}
		if onFail != nil {
			onFail(attempt, since, err)
		}
		if sluice.IsPermanent(err) {
			return err
		}
		if time.Since(since)+delay > p.Window {
			return fmt.Errorf("failing since %s (%d attempts, retry window %s): %w",
				since.UTC().Format(time.RFC3339), attempt, p.Window, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay *= 2
		if delay > max {
			delay = max
		}
	}
}
