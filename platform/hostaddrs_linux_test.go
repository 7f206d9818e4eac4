package platform

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestWatchAddrs_StopsWithContext: the rtnetlink subscription ends, and its
// channel closes, when the context ends (Close unblocks Receive).
func TestWatchAddrs_StopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	changed := watchAddrs(ctx, slog.New(slog.DiscardHandler))
	if changed == nil {
		t.Skip("no rtnetlink subscription here")
	}
	cancel()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-changed:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the channel is still open 5 s after the context ended")
		}
	}
}
