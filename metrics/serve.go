package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// ErrNotLoopback is a metrics address that is not a loopback one: the
// endpoint is unauthenticated, so it never listens beyond the host.
var ErrNotLoopback = errors.New("metrics address must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)")

// Open returns new metrics listening on addr, which must be loopback;
// Serve serves them there, Close closes the listener.
func Open(addr string) (*Metrics, error) {
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
	m := New()
	m.ln = &listener{Listener: ln}
	return m, nil
}

// listener may be closed twice (by Serve's shutdown, and by Close); the
// second Close does nothing.
type listener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *listener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// Addr is the address the metrics are served at ("" when not listening).
func (m *Metrics) Addr() string {
	if m == nil || m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Serve serves GET /metrics until ctx ends. Without a listener (nil m, or
// metrics made by New) it returns at once.
func (m *Metrics) Serve(ctx context.Context) error {
	if m == nil || m.ln == nil {
		return nil
	}
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
	if err := srv.Serve(m.ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// Close closes the listener; it may be called more than once.
func (m *Metrics) Close() error {
	if m == nil || m.ln == nil {
		return nil
	}
	return m.ln.Close()
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
