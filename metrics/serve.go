package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// ErrNotLoopback is a metrics address that is not a loopback one: the
// endpoint is unauthenticated, so it never listens beyond the host.
var ErrNotLoopback = errors.New("metrics address must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)")

// Listen opens the metrics endpoint's address, which must be loopback.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address %q: %w", addr, err)
	}
	if ip, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return ln, nil
}

// Serve serves GET /metrics on ln until ctx ends, then closes it.
func (m *Metrics) Serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ThreatLockDown: metrics at /metrics")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(shut)
	})
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// Store returns s with each Apply timed (s itself when m is nil).
func (m *Metrics) Store(s engine.Store) engine.Store {
	if m == nil {
		return s
	}
	return &timedStore{Store: s, m: m}
}

// timedStore is a Store whose commits are timed.
type timedStore struct {
	engine.Store
	m *Metrics
}

func (t *timedStore) Apply(c engine.Change) error {
	start := time.Now()
	err := t.Store.Apply(c)
	t.m.commit.Observe(time.Since(start).Seconds())
	if err != nil {
		t.m.commitKO.Inc()
	}
	return err
}
