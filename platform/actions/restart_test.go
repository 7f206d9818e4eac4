package actions

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRestartWazuh(t *testing.T) {
	ctx := context.Background()
	called := 0
	f := newXOSFake()
	r := NewRestartWazuh(Config{Exec: f, Restart: func() error { called++; return nil }})
	if err := r.Add(ctx, Target{}, noExpiry); err != nil || called != 1 {
		t.Errorf("hook: err %v, called %d", err, called)
	}
	if err := r.Delete(ctx, Target{}); err != nil || called != 1 {
		t.Errorf("delete restarted: err %v, called %d", err, called)
	}
	if got := f.take(); len(got) != 0 {
		t.Errorf("the hook ran %q", got)
	}

	// Stand-alone: Wazuh's wazuh-control, relative to the install root.
	restarts := 0
	f.tools["bin/wazuh-control"] = func(args []string, _ string) (string, error) {
		if len(args) != 1 || args[0] != "restart" {
			return "Usage: wazuh-control {start|stop|reload|restart|status|info}\n", xosExit(1)
		}
		restarts++
		return "Killing wazuh-execd...\nStarted wazuh-execd...\nCompleted.\n", nil
	}
	if err := NewRestartWazuh(Config{Exec: f}).Add(ctx, Target{}, noExpiry); err != nil || restarts != 1 {
		t.Fatalf("err %v, restarts %d", err, restarts)
	}
	if diff := cmp.Diff([]string{"$ bin/wazuh-control restart"}, f.take()); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}

	delete(f.tools, "bin/wazuh-control")
	if err := NewRestartWazuh(Config{Exec: f}).Add(ctx, Target{}, noExpiry); !errors.Is(err, ErrToolMissing) {
		t.Errorf("no wazuh-control: %v", err)
	}
}
