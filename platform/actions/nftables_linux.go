package actions

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// Kernel objects of the nftables backend: table inet threatlockdown, with
// sets blocked4 and blocked6 (flag timeout) and base chains input and
// forward (filter hooks, priority -10, policy accept) whose rules drop
// packets from an address in either set:
//
//	nft list table inet threatlockdown
const (
	nftTableName = "threatlockdown"
	nftSet4Name  = "blocked4"
	nftSet6Name  = "blocked6"
	nftPriority  = -10 // ahead of the usual filter chains at 0

	// nftChunk is how many element changes go in one netlink transaction: a
	// batch of 10,000 fails with "message too long".
	nftChunk = 1000
	// nftMargin is how long after the daemon's revert time the kernel drops
	// an element by itself: only if the daemon is dead by then.
	nftMargin = time.Minute
)

// nftBackend is firewall-drop's nftables backend. It talks netlink through
// one lasting socket, sets the table up on first use (idempotently: a
// present table is reused and its chains' rules rewritten), and writes
// element changes in transactions of nftChunk elements. A transaction that
// fails because the table vanished (nft flush ruleset) or because a deleted
// element was not there is retried once after setting up again and dropping
// the deletes of absent elements.
type nftBackend struct {
	mu     sync.Mutex
	opts   []nftables.ConnOption
	conn   *nftables.Conn
	ready  bool // table, sets and chains are known to exist
	set4   *nftables.Set
	set6   *nftables.Set
	margin time.Duration
	chunk  int
	now    func() time.Time
	notify func(who string) // told of changes by other processes (watch.go); nil: not watching
	mon    *nftMonitor      // running while notify is set and the table is in use
}

// nftOp is one element change.
type nftOp struct {
	del     bool
	addr    netip.Addr
	timeout time.Duration // 0: no timeout
}

// newNFT returns the nftables backend; opts select the network namespace in
// tests.
func newNFT(opts ...nftables.ConnOption) *nftBackend {
	return &nftBackend{opts: opts, margin: nftMargin, chunk: nftChunk, now: time.Now}
}

// probeNFT reports whether the kernel answers nf_tables requests.
func probeNFT(opts ...nftables.ConnOption) error {
	c, err := nftables.New(opts...)
	if err != nil {
		return err
	}
	_, err = c.ListTablesOfFamily(nftables.TableFamilyINet)
	return err
}

func (b *nftBackend) name() string { return "nftables" }

func (b *nftBackend) add(ctx context.Context, blocks []Block) error {
	now := b.now()
	ops := make([]nftOp, len(blocks))
	for i, bl := range blocks {
		ops[i] = nftOp{addr: bl.Target.Addr, timeout: b.timeout(bl.Expires, now)}
	}
	return b.apply(ctx, ops)
}

func (b *nftBackend) del(ctx context.Context, addrs []netip.Addr) error {
	ops := make([]nftOp, len(addrs))
	for i, a := range addrs {
		ops[i] = nftOp{del: true, addr: a}
	}
	return b.apply(ctx, ops)
}

// refresh gives a its timeout for expires in one transaction: add (a no-op
// when present), delete, add with the new timeout. Old kernels keep an
// element's timeout on a plain re-add; this works on all.
func (b *nftBackend) refresh(ctx context.Context, a netip.Addr, expires time.Time) error {
	t := b.timeout(expires, b.now())
	ops := []nftOp{{addr: a, timeout: t}, {del: true, addr: a}, {addr: a, timeout: t}}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.commit(ops)
}

// refreshMany is refresh for many blocks, nftChunk elements a transaction:
// all adds, all deletes, all adds again, so that each step is one message
// per family.
func (b *nftBackend) refreshMany(ctx context.Context, blocks []Block) error {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(blocks) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(blocks), b.chunk)
		ops := make([]nftOp, 3*n)
		for i, bl := range blocks[:n] {
			t := b.timeout(bl.Expires, now)
			ops[i] = nftOp{addr: bl.Target.Addr, timeout: t}
			ops[n+i] = nftOp{del: true, addr: bl.Target.Addr}
			ops[2*n+i] = ops[i]
		}
		if err := b.commit(ops); err != nil {
			return fmt.Errorf("firewall-drop: nftables: %w", err)
		}
		blocks = blocks[n:]
	}
	return nil
}

// timeout is the kernel timeout for a block reverted at expires: margin
// past it, at least a second; none for a block without expiry.
func (b *nftBackend) timeout(expires, now time.Time) time.Duration {
	if expires.IsZero() {
		return 0
	}
	return max(expires.Sub(now)+b.margin, time.Second).Round(time.Millisecond)
}

// apply commits ops in order, nftChunk at a time.
func (b *nftBackend) apply(ctx context.Context, ops []nftOp) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(ops) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(ops), b.chunk)
		if err := b.commit(ops[:n]); err != nil {
			return fmt.Errorf("firewall-drop: nftables: %w", err)
		}
		ops = ops[n:]
	}
	return nil
}

// commit writes ops as one transaction, retrying once as described on
// nftBackend.
func (b *nftBackend) commit(ops []nftOp) error {
	err := b.flush(ops)
	if !errors.Is(err, unix.ENOENT) {
		return err
	}
	b.ready = false
	if err := b.ensure(); err != nil {
		return err
	}
	present, err := b.present()
	if err != nil {
		return err
	}
	return b.flush(keepPresent(ops, present))
}

// flush queues ops on the connection and sends them as one transaction.
// Consecutive ops of one kind and family share a message; order is kept.
func (b *nftBackend) flush(ops []nftOp) error {
	if err := b.ensure(); err != nil {
		return err
	}
	for len(ops) > 0 {
		n := 1
		for n < len(ops) && ops[n].del == ops[0].del && ops[n].addr.Is4() == ops[0].addr.Is4() {
			n++
		}
		if err := b.queue(ops[:n]); err != nil {
			return err
		}
		ops = ops[n:]
	}
	return b.conn.Flush()
}

// queue adds one message for ops, all of one kind and family.
func (b *nftBackend) queue(ops []nftOp) error {
	set := b.set6
	if ops[0].addr.Is4() {
		set = b.set4
	}
	elems := make([]nftables.SetElement, len(ops))
	for i, op := range ops {
		elems[i] = nftables.SetElement{Key: op.addr.AsSlice(), Timeout: op.timeout}
	}
	if ops[0].del {
		return b.conn.SetDeleteElements(set, elems)
	}
	return b.conn.SetAddElements(set, elems)
}

// keepPresent drops the deletes of addresses not in present. An address
// added earlier in ops counts as present for a later delete.
func keepPresent(ops []nftOp, present map[netip.Addr]bool) []nftOp {
	out := make([]nftOp, 0, len(ops))
	for _, op := range ops {
		if op.del && !present[op.addr] {
			continue
		}
		present[op.addr] = !op.del
		out = append(out, op)
	}
	return out
}

// Close closes the netlink socket.
func (b *nftBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		return nil
	}
	if b.mon != nil {
		b.mon.Close()
		b.mon = nil
	}
	err := b.conn.CloseLasting()
	b.conn, b.ready = nil, false
	return err
}
