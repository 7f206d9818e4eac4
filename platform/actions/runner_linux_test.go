package actions

import (
	"context"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

func TestRunner_BadExtraArgs(t *testing.T) {
	log := &lineLog{}
	f := newXOSFake()
	r := NewRunner(Config{Exec: f}, log)
	msg := execdMessage(engine.OpAdd, "firewall-drop", alertIP, "backend=ipchains")
	asked := false
	check := func([]string) (engine.Decision, error) { asked = true; return engine.Decision{}, nil }
	inv := engine.Invocation{Command: engine.Command{Executable: "firewall-drop"}, Op: engine.OpAdd, Message: msg}
	if err := r.Run(context.Background(), inv, check); err == nil || !strings.Contains(err.Error(), "ipchains") {
		t.Errorf("err = %v", err)
	}
	if asked {
		t.Error("asked check_keys for a command that cannot run")
	}
	if ran := f.take(); len(ran) > 0 {
		t.Errorf("ran %q", ran)
	}
}
