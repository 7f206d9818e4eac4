package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kardianos/service"
)

// StopTimeout is how long a stop waits for the daemon: it stops within a
// few seconds (running commands get 2 s, then are killed).
const StopTimeout = 10 * time.Second

// New returns the service of s for this OS's service manager, running p
// when the manager starts it (Windows; elsewhere the manager runs
// `threatlockdown run` itself and p is not used).
func New(s Spec, p service.Interface) (service.Service, error) {
	w := Windows(s)
	cfg := &service.Config{
		Name: Name, DisplayName: displayName, Description: description,
		Executable: s.Exec, Arguments: s.Args,
		Option: service.KeyValue{
			"SystemdScript": SystemdUnit(s),
			"LaunchdConfig": LaunchdPlist(s),
			// SysV (PID 1 not systemd) uses the library's script with these.
			"Restart": "on-failure",
			// Windows.
			"StartType": w.StartType, "DelayedAutoStart": w.DelayedAutoStart, "OnFailure": w.OnFailure,
			"OnFailureDelayDuration": w.OnFailureDelay, "OnFailureResetPeriod": w.OnFailureReset,
		},
	}
	return service.New(p, cfg)
}

// Program adapts the daemon to the library's Start and Stop: Start starts
// Run and returns at once; Stop cancels it and waits at most StopTimeout.
// A Run that ends by itself (an invalid config at start) calls Exit with
// its error, so that the manager sees the service fail.
type Program struct {
	Run  func(ctx context.Context) error
	Exit func(err error)

	cancel context.CancelFunc
	done   chan error
}

var _ service.Interface = (*Program)(nil)

func (p *Program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() {
		err := p.Run(ctx)
		if ctx.Err() == nil && p.Exit != nil {
			p.Exit(err) // ended by itself
		}
		p.done <- err
	}()
	return nil
}

func (p *Program) Stop(service.Service) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	select {
	case err := <-p.done:
		return err
	case <-time.After(StopTimeout):
		return fmt.Errorf("not stopped after %v", StopTimeout)
	}
}

// Actions are what `threatlockdown service` does.
var Actions = []string{"install", "uninstall", "start", "stop", "restart", "status"}

// ErrNotRunning is a status of a service installed but not running, or not
// installed.
var ErrNotRunning = errors.New("service not running")

// Control carries out action on s. Uninstall stops the service first;
// status returns ErrNotRunning (wrapped) unless it runs.
func Control(s service.Service, action string) (string, error) {
	switch action {
	case "status":
		st, err := s.Status()
		switch {
		case errors.Is(err, service.ErrNotInstalled):
			return "", fmt.Errorf("%w: not installed", ErrNotRunning)
		case err != nil:
			return "", err
		case st == service.StatusRunning:
			return "running", nil
		}
		return "", fmt.Errorf("%w: stopped (%s)", ErrNotRunning, s.Platform())
	case "uninstall":
		if st, err := s.Status(); err == nil && st == service.StatusRunning {
			if err := s.Stop(); err != nil {
				return "", fmt.Errorf("stop before uninstall: %w", err)
			}
		}
	}
	if err := service.Control(s, action); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: %s done (%s)", Name, action, s.Platform()), nil
}

// Interactive reports whether the process runs from a terminal rather than
// under a service manager.
func Interactive() bool { return service.Interactive() }
