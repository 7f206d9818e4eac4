//go:build !linux

package platform

import (
	"context"
	"log/slog"
)

// watchAddrs has no notifications to offer here: the addresses are read
// periodically.
func watchAddrs(context.Context, *slog.Logger) <-chan struct{} { return nil }
