package engine

import (
	"context"
	"sync"
)

// dispatcher runs tasks on at most a fixed number of workers while keeping
// the tasks of one lane strictly in order: a lane's next task starts only
// after the previous one ended. Lanes with work wait in one FIFO queue; a
// worker takes the lane at its head, runs that lane's first task and puts
// the lane back at the tail if it has more. So a storm of 10,000 lanes costs
// 10,000 queue slots, not 10,000 goroutines, and no lane starves another.
type dispatcher struct {
	max int // workers at most

	mu      sync.Mutex
	lanes   map[string]*lane // lanes with queued or running tasks
	ready   []*lane          // lanes with tasks and none running, FIFO from head
	head    int
	workers int // running
	closed  bool
	wg      sync.WaitGroup
}

type lane struct {
	name    string
	tasks   []task
	running bool
}

type task struct {
	ctx context.Context
	run func(context.Context)
}

func newDispatcher(workers int) *dispatcher {
	return &dispatcher{max: max(workers, 1), lanes: make(map[string]*lane)}
}

// submit queues run on lane, to be called with ctx. It reports false once
// the dispatcher is closed.
func (d *dispatcher) submit(ctx context.Context, name string, run func(context.Context)) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	l := d.lanes[name]
	if l == nil {
		l = &lane{name: name}
		d.lanes[name] = l
	}
	l.tasks = append(l.tasks, task{ctx: ctx, run: run})
	if !l.running && len(l.tasks) == 1 {
		d.ready = append(d.ready, l)
	}
	if d.workers < d.max {
		d.workers++
		d.wg.Add(1)
		go d.work()
	}
	return true
}

// work runs ready lanes' tasks until none is ready, then ends: workers come
// and go with the load.
func (d *dispatcher) work() {
	defer d.wg.Done()
	d.mu.Lock()
	defer d.mu.Unlock()
	for !d.closed && d.head < len(d.ready) {
		l := d.ready[d.head]
		d.ready[d.head] = nil
		d.head++
		if d.head == len(d.ready) || d.head > 1024 && d.head > len(d.ready)/2 {
			n := copy(d.ready, d.ready[d.head:]) // reuse the front once it is mostly taken
			clear(d.ready[n:])
			d.ready, d.head = d.ready[:n], 0
		}
		t := l.tasks[0]
		l.tasks[0] = task{}
		l.tasks = l.tasks[1:]
		l.running = true
		d.mu.Unlock()
		t.run(t.ctx)
		d.mu.Lock()
		l.running = false
		if len(l.tasks) > 0 {
			d.ready = append(d.ready, l)
		} else {
			delete(d.lanes, l.name)
		}
	}
	d.workers--
}

// close stops starting tasks and waits for the running ones. Queued tasks
// are dropped: their intent is in the store and runs again at next start.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}
