package actions

import (
	"context"
	"time"
)

// Block is one target to block and when the daemon will revert it (zero:
// never, no kernel timeout).
type Block struct {
	Target  Target
	Expires time.Time
}

// Batcher is implemented by actions that apply many targets at once, far
// cheaper than one call each (nftables: a few netlink messages per thousand
// elements). The daemon uses it to re-assert its blocks after a reboot.
// Both calls are idempotent like Add and Delete; on error some of the
// targets may have been applied, and repeating the call is safe.
type Batcher interface {
	AddMany(ctx context.Context, blocks []Block) error
	DeleteMany(ctx context.Context, targets []Target) error
}

// Refresher is implemented by actions whose blocks carry a kernel-side
// timeout. Refresh moves the timeout of an active block to match a new
// revert time (a repeated offender whose timer restarted), adding the block
// if it is missing.
type Refresher interface {
	Refresh(ctx context.Context, t Target, expires time.Time) error
}

// addEach adds blocks one by one: the Batcher fallback for actions without
// a batch form.
func addEach(ctx context.Context, a Action, blocks []Block) error {
	for _, b := range blocks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.Add(ctx, b.Target, b.Expires); err != nil {
			return err
		}
	}
	return nil
}

// deleteEach deletes targets one by one.
func deleteEach(ctx context.Context, a Action, targets []Target) error {
	for _, t := range targets {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.Delete(ctx, t); err != nil {
			return err
		}
	}
	return nil
}
