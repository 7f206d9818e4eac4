package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// obsRecorder is an Observer that counts what it is told.
type obsRecorder struct {
	mu      sync.Mutex
	skipped map[string]int // by "line reason"
	ran     map[string]int // by "command op outcome"
	took    map[string]int // by "command op"
	acted   []time.Duration
}

func newObsRecorder() *obsRecorder {
	return &obsRecorder{skipped: map[string]int{}, ran: map[string]int{}, took: map[string]int{}}
}

func (o *obsRecorder) Skipped(r *Response, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.skipped[fmt.Sprint(r.Line, " ", reason)]++
}

func (o *obsRecorder) Ran(c *Command, op Op, out Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ran[fmt.Sprint(c.Name, " ", op, " ", out)]++
}

func (o *obsRecorder) Took(c *Command, op Op, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.took[fmt.Sprint(c.Name, " ", op)]++
}

func (o *obsRecorder) Acted(c *Command, latency time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.acted = append(o.acted, latency)
}

// outcomeRunner is a fakeRunner whose adds for 203.0.113.8 fail and for
// 203.0.113.9 hit their time limit.
type outcomeRunner struct{ fakeRunner }

func (r *outcomeRunner) Run(ctx context.Context, inv Invocation, check CheckKeys) error {
	switch {
	case inv.Op == OpAdd && inv.Fields.SrcIP == "203.0.113.8":
		return errors.New("exit status 1")
	case inv.Op == OpAdd && inv.Fields.SrcIP == "203.0.113.9":
		return fmt.Errorf("killed: %w", context.DeadlineExceeded)
	}
	return r.fakeRunner.Run(ctx, inv, check)
}

func TestObserver_OneJobPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := newObsRecorder()
		cfg := testConfig(10 * time.Second)
		cfg.Responses[0].Line = 7
		cfg.WhiteList = []WhiteListEntry{{Prefix: netip.MustParsePrefix("198.51.100.0/24")}}
		r := &outcomeRunner{}
		h := startEngineOpts(t, newMemStore(), &r.fakeRunner, cfg, Options{Observer: obs})
		h.e.runner = r
		defer h.stop()
		for _, ip := range []string{"198.51.100.1", "203.0.113.7", "203.0.113.7", "203.0.113.8", "203.0.113.9"} {
			h.alert(ip, "1.1")
		}
		if tc := h.e.Table(time.Now()); !maps.Equal(tc.Active, map[string]int{"firewall-drop": 1}) || tc.Overdue != 0 {
			t.Errorf("table now: %+v", tc)
		}
		if tc := h.e.Table(time.Now().Add(time.Hour)); tc.Overdue != 1 {
			t.Errorf("table in an hour: %+v", tc)
		}
		time.Sleep(11 * time.Second) // the delete of 203.0.113.7
		synctest.Wait()
		if tc := h.e.Table(time.Now()); len(tc.Active) != 0 {
			t.Errorf("table after the delete: %+v", tc)
		}
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if want := map[string]int{"7 white_list": 1}; !maps.Equal(obs.skipped, want) {
			t.Errorf("skipped %v, want %v", obs.skipped, want)
		}
		want := map[string]int{
			"firewall-drop add continue": 1, "firewall-drop add abort": 1, "firewall-drop add failed": 1,
			"firewall-drop add timed_out": 1, "firewall-drop delete done": 1,
		}
		if !maps.Equal(obs.ran, want) {
			t.Errorf("ran %v, want %v", obs.ran, want)
		}
		if want := map[string]int{"firewall-drop add": 4, "firewall-drop delete": 1}; !maps.Equal(obs.took, want) {
			t.Errorf("took %v, want %v", obs.took, want)
		}
		if len(obs.acted) != 1 {
			t.Errorf("acted %v, want one", obs.acted)
		}
	})
}

// groupRunner is a fakeRunner with a batch form for firewall-drop.
type groupRunner struct {
	fakeRunner
	applied chan struct{} // an Apply blocks on it
}

func (r *groupRunner) Group(Command) Group { return obsGroup{r} }

type obsGroup struct{ r *groupRunner }

func (obsGroup) Keys(f Fields) ([]string, error) { return []string{f.SrcIP}, nil }
func (obsGroup) KernelTimeout() bool             { return false }
func (g obsGroup) Apply(context.Context, []GroupAdd) (func(), error) {
	<-g.r.applied
	return nil, nil
}

func TestObserver_GroupPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := newObsRecorder()
		r := &groupRunner{applied: make(chan struct{})}
		h := startEngineOpts(t, newMemStore(), &r.fakeRunner, testConfig(time.Hour), Options{Observer: obs})
		h.e.runner = r
		defer h.stop()
		for _, ip := range []string{"203.0.113.7", "203.0.113.7", "198.51.100.1"} {
			rec := Record{Data: fmt.Appendf(nil, `{"rule":{"level":10,"id":"5712"},"id":"1.1","data":{"srcip":%q}}`, ip)}
			if err := h.e.Handle(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			synctest.Wait() // a group each
		}
		time.Sleep(3 * time.Second) // the first batch takes 3 s to apply, the others wait
		close(r.applied)
		synctest.Wait()
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if want := map[string]int{"firewall-drop add continue": 2, "firewall-drop add abort": 1}; !maps.Equal(obs.ran, want) {
			t.Errorf("ran %v, want %v", obs.ran, want)
		}
		if want := map[string]int{"firewall-drop add": 3}; !maps.Equal(obs.took, want) {
			t.Errorf("took %v, want three batches", obs.took)
		}
		if len(obs.acted) != 2 || obs.acted[0] != 3*time.Second {
			t.Errorf("acted %v, want two of 3s", obs.acted)
		}
	})
}
