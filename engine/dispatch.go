package engine

import (
	"context"
	"sync"
)

// dispatcher runs tasks on a bounded number of workers while keeping the
// tasks of one lane strictly in order: a lane's next task starts only after
// the previous one ended. Lanes never block each other beyond the bound.
type dispatcher struct {
	sem chan struct{}

	mu     sync.Mutex
	lanes  map[string][]func(context.Context)
	wg     sync.WaitGroup
	closed bool
}

func newDispatcher(workers int) *dispatcher {
	if workers < 1 {
		workers = 1
	}
	return &dispatcher{
		sem:   make(chan struct{}, workers),
		lanes: make(map[string][]func(context.Context)),
	}
}

// submit queues task on lane. It reports false once the dispatcher is closed.
func (d *dispatcher) submit(ctx context.Context, lane string, task func(context.Context)) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	q, busy := d.lanes[lane]
	d.lanes[lane] = append(q, task)
	if !busy {
		d.wg.Add(1)
		go d.drain(ctx, lane)
	}
	return true
}

// drain runs the tasks of one lane until it is empty.
func (d *dispatcher) drain(ctx context.Context, lane string) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		q := d.lanes[lane]
		if len(q) == 0 || d.closed {
			delete(d.lanes, lane)
			d.mu.Unlock()
			return
		}
		task := q[0]
		q[0] = nil
		d.lanes[lane] = q[1:]
		d.mu.Unlock()

		select {
		case d.sem <- struct{}{}:
		case <-ctx.Done():
			d.mu.Lock()
			delete(d.lanes, lane)
			d.mu.Unlock()
			return
		}
		if d.isClosed() { // closed while this task waited for a worker
			<-d.sem
			continue // the loop's check empties the lane
		}
		task(ctx)
		<-d.sem
	}
}

// close stops starting tasks and waits for the running ones. Queued tasks
// are dropped: their intent is in the store and runs again at next start.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}

func (d *dispatcher) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}
