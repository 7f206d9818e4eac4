package actions

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRestartWazuh(t *testing.T) {
	ctx := context.Background()
	called := 0
	r := NewRestartWazuh(Config{Exec: new(argvExec), Restart: func() error { called++; return nil }})
	if err := r.Add(ctx, Target{}, noExpiry); err != nil || called != 1 {
		t.Errorf("hook: err %v, called %d", err, called)
	}
	if err := r.Delete(ctx, Target{}); err != nil || called != 1 {
		t.Errorf("delete restarted: err %v, called %d", err, called)
	}

	fake := new(argvExec)
	if err := NewRestartWazuh(Config{Exec: fake}).Add(ctx, Target{}, noExpiry); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"bin/wazuh-control restart"}, fake.lines()); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}

	gone := new(argvExec).on("bin/wazuh-control", "", fs.ErrNotExist)
	if err := NewRestartWazuh(Config{Exec: gone}).Add(ctx, Target{}, noExpiry); !errors.Is(err, ErrToolMissing) {
		t.Errorf("no wazuh-control: %v", err)
	}
}
