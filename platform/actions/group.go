package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/internal/arproto"
)

var _ engine.Grouper = (*Runner)(nil)

// Group returns the batch form of built-in command c for the engine's group
// commit, nil when c names no keyed built-in on this OS or its extra_args
// are wrong (run alone, it says why). The target of each add comes from the
// alert fields the engine already validated, so a group costs no decoding.
func (r *Runner) Group(c engine.Command) engine.Group {
	name := baseName(c.Executable)
	kind := KindOf(name)
	if kind == KeyNone {
		return nil
	}
	act, err := r.action(name, c.ExtraArgs)
	if err != nil {
		return nil
	}
	return &group{name: name, kind: kind, act: act, log: newARLog(r.log, name), logs: &r.logs}
}

// group is one built-in's batch form: engine.Group.
type group struct {
	name string
	kind KeyKind
	act  Action
	log  arLog
	logs *logQueue
}

// kernelTimeouter is implemented by actions whose blocks may carry a
// kernel-side timeout (firewall-drop on nftables).
type kernelTimeouter interface {
	kernelTimeouts() bool
}

// manyRefresher is a Refresher that moves many timeouts at once.
type manyRefresher interface {
	RefreshMany(ctx context.Context, blocks []Block) error
}

// Keys are the keys the built-in sends in check_keys for an alert with
// fields f: those of the engine's target, f.Target(), as Run sends them.
func (g *group) Keys(f engine.Fields) ([]string, error) {
	_, keys, err := targetOf(g.kind, f.Target())
	return keys, err
}

func (g *group) KernelTimeout() bool {
	k, ok := g.act.(kernelTimeouter)
	return ok && k.kernelTimeouts()
}

// Apply adds the blocks of the continues in one batch (AddMany where the
// action has it), moves the kernel timeouts of the aborts (in one batch
// where it can), and writes each run's active-responses.log lines, as the
// built-in run alone writes them, in one write.
func (g *group) Apply(ctx context.Context, adds []engine.GroupAdd) (func(), error) {
	var blocks, moved []Block
	movedAt := make(map[Target]int) // a target moved again in the group: once, to its last expiry
	for _, a := range adds {
		t, _, err := targetOf(g.kind, a.Fields.Target())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err) // unreachable: Keys accepted them
		}
		b := Block{Target: t, Expires: a.Decision.Expires}
		switch {
		case a.Decision.Verdict == engine.Continue:
			blocks = append(blocks, b)
		case b.Expires.IsZero():
		case movedAt[t] > 0:
			moved[movedAt[t]-1] = b
		default:
			moved = append(moved, b)
			movedAt[t] = len(moved)
		}
	}
	addErr := addMany(ctx, g.act, blocks)
	refreshErr := refreshMany(ctx, g.act, moved)
	logs := func() { g.logs.do(func() { g.logRuns(adds, addErr, refreshErr) }) }
	return logs, errors.Join(addErr, refreshErr)
}

// addMany adds blocks with a, in one batch if it can.
func addMany(ctx context.Context, a Action, blocks []Block) error {
	if len(blocks) == 0 {
		return nil
	}
	if b, ok := a.(Batcher); ok {
		return b.AddMany(ctx, blocks)
	}
	return addEach(ctx, a, blocks)
}

// refreshMany moves the kernel timeouts of blocks, where a has them.
func refreshMany(ctx context.Context, a Action, blocks []Block) error {
	if len(blocks) == 0 {
		return nil
	}
	if m, ok := a.(manyRefresher); ok {
		return m.RefreshMany(ctx, blocks)
	}
	r, ok := a.(Refresher)
	if !ok {
		return nil
	}
	for _, b := range blocks {
		if err := r.Refresh(ctx, b.Target, b.Expires); err != nil {
			return err
		}
	}
	return nil
}

// logRuns writes the lines serve writes for each add: Starting, the
// message, check_keys, execd's answer, then Ended (after the error, if the
// apply failed) or Aborted.
func (g *group) logRuns(adds []engine.GroupAdd, addErr, refreshErr error) {
	if g.log.log == nil {
		return
	}
	var (
		starting = []byte("Starting")
		ended    = []byte("Ended")
		aborted  = []byte("Aborted")
		addMsg   = errLine(addErr)
		refMsg   = errLine(refreshErr)
	)
	// Every line is a slice of pieces, all in one backing array: the
	// message and the answer are the shared head (spliced for the answer),
	// the add's own Params and the closing brace; nothing is copied.
	pieces := make([][]byte, 0, 10*len(adds))
	lines := make([][][]byte, 0, 6*len(adds))
	line := func(p ...[]byte) {
		pieces = append(pieces, p...)
		lines = append(lines, pieces[len(pieces)-len(p):len(pieces):len(pieces)])
	}
	closing := []byte("}")
	for _, a := range adds {
		line(starting)
		line(a.Head, a.Params, closing)
		line(arproto.CheckKeysLine(g.name, a.Keys))
		if head, command, tail, ok := engine.AnswerParts(a.Head, a.Decision.Verdict); ok {
			line(head, command, tail, a.Params, closing)
		} else {
			msg := append(append(slices.Clip(a.Head), a.Params...), '}')
			line(answerLine(msg, a.Decision.Verdict))
		}
		switch {
		case a.Decision.Verdict == engine.Abort:
			if refMsg != nil {
				line(refMsg)
			}
			line(aborted)
		default:
			if addMsg != nil {
				line(addMsg)
			}
			line(ended)
		}
	}
	g.log.lines(lines)
}

// errLine is the log line of err, nil without one.
func errLine(err error) []byte {
	if err == nil {
		return nil
	}
	return []byte(err.Error())
}

// logQueue runs log writes one after the other in a goroutine of its own,
// in the order they were handed in: a group's lines (megabytes in a storm)
// are formatted and written while the engine goes on. close waits for them.
type logQueue struct {
	mu      sync.Mutex
	pending []func()
	busy    bool
	idle    sync.WaitGroup
}

func (q *logQueue) do(f func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, f)
	if !q.busy {
		q.busy = true
		q.idle.Add(1)
		go q.run()
	}
}

func (q *logQueue) run() {
	defer q.idle.Done()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.busy = false
			q.mu.Unlock()
			return
		}
		f := q.pending[0]
		q.pending[0] = nil
		q.pending = q.pending[1:]
		q.mu.Unlock()
		f()
	}
}

// close waits until everything handed in is written.
func (q *logQueue) close() { q.idle.Wait() }
