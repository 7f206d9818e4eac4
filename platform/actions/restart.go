package actions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// RestartWazuh is restart-wazuh: it restarts or reloads the daemon through
// Config.Restart. Without that hook (stand-alone mode inside a Wazuh agent)
// it runs Wazuh's own "bin/wazuh-control restart" from the working
// directory, which execd sets to the install root. It is stateless: there is
// no target and Delete does nothing.
type RestartWazuh struct {
	restart func() error
	exec    Execer
}

var _ Action = (*RestartWazuh)(nil)

// NewRestartWazuh returns restart-wazuh calling cfg.Restart.
func NewRestartWazuh(cfg Config) *RestartWazuh {
	return &RestartWazuh{restart: cfg.Restart, exec: cfg.Exec}
}

// Name is "restart-wazuh".
func (r *RestartWazuh) Name() string { return "restart-wazuh" }

// Add restarts.
func (r *RestartWazuh) Add(ctx context.Context, _ Target, _ time.Time) error {
	if r.restart != nil {
		if err := r.restart(); err != nil {
			return wrapExec("restart-wazuh", err)
		}
		return nil
	}
	_, err := r.exec.Run(ctx, "bin/wazuh-control", "restart")
	if errors.Is(err, fs.ErrNotExist) { // a path, so not exec.ErrNotFound
		return fmt.Errorf("restart-wazuh: %w: %w", ErrToolMissing, err)
	}
	if err != nil {
		return wrapExec("restart-wazuh", err)
	}
	return nil
}

// Delete does nothing: a restart is not undone.
func (r *RestartWazuh) Delete(context.Context, Target) error { return nil }
