// Package control is the daemon's local control socket: one JSON request
// line in, one JSON response out, per connection.
//
// The socket is an AF_UNIX socket (Windows 10 and later have them too) in a
// directory only its owner may enter (0700), itself mode 0600, so only the
// daemon's user (root) reaches it; on Linux the server also checks the
// peer's credentials and answers anyone else "permission denied". Requests
// are bounded (MaxRequest bytes, ReadTimeout), and a malformed one gets an
// error response: the server goes on.
//
// On Windows the directory gets a protected ACL of its own instead of the
// mode: full control for SYSTEM, Administrators and the daemon's user,
// nobody else, inherited by the socket (connecting needs write access to
// it); the directory must be owned by one of them. No peer check is made
// there.
package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Limits on a request.
const (
	MaxRequest  = 64 << 10
	ReadTimeout = 5 * time.Second
	// maxPath is the longest socket path AF_UNIX takes everywhere (sun_path
	// is 104 bytes on the BSDs and macOS, 108 on Linux).
	maxPath = 103
)

// Errors.
var (
	// ErrNotRunning is a Call that finds no daemon listening.
	ErrNotRunning = errors.New("the daemon is not running")
	// ErrInUse is a Listen on a socket another process answers on.
	ErrInUse = errors.New("another daemon answers on the control socket")
	// ErrPermission is a Call refused by the daemon (or by the socket's
	// file permissions): the caller is not the daemon's user.
	ErrPermission = errors.New("permission denied")
)

// Request is what a client asks.
type Request struct {
	Command string            `json:"command"`
	Args    []string          `json:"args,omitempty"`
	Flags   map[string]string `json:"flags,omitempty"`
}

// Response is the daemon's answer: Data on success, Error otherwise.
type Response struct {
	OK    bool            `json:"ok"`
	Error string          `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Peer is who is on the other end of a connection, as the OS says.
type Peer struct {
	Known bool // false where the OS does not tell (not Linux)
	UID   int
	PID   int
}

func (p Peer) String() string {
	if !p.Known {
		return "unknown"
	}
	return fmt.Sprintf("uid %d pid %d", p.UID, p.PID)
}

// Handler answers one request: data is encoded as the response's Data.
type Handler func(ctx context.Context, p Peer, r Request) (data any, err error)

// Server is a listening control socket.
type Server struct {
	path string
	made fs.FileInfo // the socket as made: Close removes only that one
	ln   net.Listener
	log  *slog.Logger
	wg   sync.WaitGroup
}

// Listen creates the socket at path. Its directory is the socket's own:
// it is created 0700 (its parents 0755) or, when present, must be a
// directory of this user, and is set to 0700; a directory shared with
// others (Wazuh's var/run, of its group) is never changed. A socket left
// there by a daemon that died is removed; one that answers is ErrInUse,
// and anything else at path is an error. The socket is made 0600.
func Listen(path string, log *slog.Logger) (*Server, error) { return listen(path, log, false) }

// ListenOver is Listen for the daemon that holds its root's store: a
// socket that answers can then only be a dry run's, which it takes over
// (the dry run goes on without one).
func ListenOver(path string, log *slog.Logger) (*Server, error) { return listen(path, log, true) }

func listen(path string, log *slog.Logger, over bool) (*Server, error) {
	if len(path) > maxPath {
		return nil, fmt.Errorf("control socket path %s is longer than %d bytes", path, maxPath)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if err := ownDir(dir); err != nil {
		return nil, fmt.Errorf("control socket directory %s: %w", dir, err)
	}
	if err := restrictDir(dir); err != nil {
		return nil, fmt.Errorf("control socket directory %s: %w", dir, err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("control socket %s: a file that is not a socket is in the way", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			if !over {
				return nil, fmt.Errorf("%w: %s", ErrInUse, path)
			}
			if log != nil {
				log.Warn("control socket: a dry run answered on it; taken over", "path", path)
			}
		}
		os.Remove(path) // left by a daemon that died, or a dry run's
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // Close removes it if still ours
	made, err := os.Lstat(path)
	if err == nil {
		err = os.Chmod(path, 0o600)
	}
	if err != nil {
		ln.Close()
		os.Remove(path)
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{path: path, made: made, ln: ln, log: log}, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Serve answers connections with h until ctx ends, then closes the
// listener and waits for the requests being answered.
func (s *Server) Serve(ctx context.Context, h Handler) error {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	defer s.wg.Wait()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.log.Warn("control socket accept", "err", err)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(ctx, conn.(*net.UnixConn), h)
		}()
	}
}

// Close closes the listener and removes the socket, unless another
// daemon's socket has replaced it at the path.
func (s *Server) Close() error {
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if now, serr := os.Lstat(s.path); serr == nil && os.SameFile(now, s.made) {
		os.Remove(s.path)
	}
	return err
}

func (s *Server) serve(ctx context.Context, conn *net.UnixConn, h Handler) {
	defer conn.Close()
	enc := json.NewEncoder(conn)
	peer, err := askPeer(conn)
	if err != nil {
		// Where the OS names peers, one it cannot name is refused.
		s.log.Warn("control socket: refused, peer unknown", "err", err)
		enc.Encode(Response{Error: ErrPermission.Error()})
		return
	}
	if !allowed(peer) {
		s.log.Warn("control socket: refused", "peer", peer)
		enc.Encode(Response{Error: ErrPermission.Error()})
		return
	}
	conn.SetReadDeadline(time.Now().Add(ReadTimeout))
	req, err := readRequest(conn)
	if err != nil {
		s.log.Warn("control socket: malformed request", "peer", peer, "err", err)
		enc.Encode(Response{Error: "malformed request: " + err.Error()})
		return
	}
	conn.SetReadDeadline(time.Time{})
	data, err := h(ctx, peer, req)
	resp := Response{OK: err == nil}
	if err != nil {
		resp.Error = err.Error()
	} else if resp.Data, err = json.Marshal(data); err != nil {
		resp = Response{Error: "encode: " + err.Error()}
	}
	conn.SetWriteDeadline(time.Now().Add(time.Minute))
	if err := enc.Encode(resp); err != nil {
		s.log.Debug("control socket: client gone", "err", err)
	}
}

// readRequest reads one request line of at most MaxRequest bytes.
func readRequest(r io.Reader) (Request, error) {
	line, err := bufio.NewReader(io.LimitReader(r, MaxRequest+1)).ReadBytes('\n')
	if len(line) > MaxRequest {
		return Request{}, fmt.Errorf("longer than %d bytes", MaxRequest)
	}
	if err != nil {
		return Request{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var req Request
	if err := dec.Decode(&req); err != nil {
		return Request{}, err
	}
	if req.Command == "" {
		return Request{}, errors.New("no command")
	}
	return req, nil
}

// askPeer is peerOf; tests make it fail.
var askPeer = peerOf

// allowed reports whether peer may use the socket: root or the daemon's
// own user. Where the OS does not name peers at all (Known is false, and
// peerOf no error), the socket's mode and its directory's keep others out.
func allowed(p Peer) bool {
	return !p.Known || p.UID == 0 || p.UID == os.Geteuid()
}

// Call sends req to the daemon at path and decodes its Data into out (when
// not nil). It returns ErrNotRunning when nothing listens there and
// ErrPermission when the caller may not use the socket.
func Call(ctx context.Context, path string, req Request, out any) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%w (no one listens on %s)", ErrNotRunning, path)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: %s", ErrPermission, path)
	case err != nil:
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// A refusal may come before the request is read (and the write fail):
	// the answer says why.
	werr := json.NewEncoder(conn).Encode(req)
	var resp Response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return fmt.Errorf("control socket %s: %w", path, errors.Join(werr, err))
	}
	if !resp.OK {
		if resp.Error == ErrPermission.Error() {
			return ErrPermission
		}
		return &RemoteError{Text: resp.Error}
	}
	if out == nil || len(resp.Data) == 0 {
		return nil
	}
	return json.Unmarshal(resp.Data, out)
}

// RemoteError is an error the daemon answered with.
type RemoteError struct{ Text string }

func (e *RemoteError) Error() string { return e.Text }
