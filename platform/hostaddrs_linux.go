package platform

import (
	"context"
	"errors"
	"log/slog"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// watchAddrs reports, on the returned channel, every address the kernel
// adds or removes (rtnetlink's IFADDR groups), until ctx ends or the
// subscription fails; then it closes the channel. A failure to subscribe
// is logged and gives a nil channel: the periodic read stays.
func watchAddrs(ctx context.Context, log *slog.Logger) <-chan struct{} {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{Groups: unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR})
	if err != nil {
		log.Warn("no notifications of address changes: reading them periodically", "err", err)
		return nil
	}
	changed := make(chan struct{}, 1)
	stop := context.AfterFunc(ctx, func() { c.Close() }) // unblocks Receive
	go func() {
		defer close(changed)
		defer stop()
		for {
			_, err := c.Receive()
			if ctx.Err() != nil {
				return
			}
			select {
			case changed <- struct{}{}: // an overrun may have hidden changes: read again too
			default:
			}
			if err != nil && !errors.Is(err, unix.ENOBUFS) {
				log.Warn("notifications of address changes stopped: reading them periodically", "err", err)
				c.Close()
				return
			}
		}
	}()
	return changed
}
