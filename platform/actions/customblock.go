package actions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultCustomBlockDir is where ip-customblock marks blocked addresses, as
// Wazuh's program does.
const DefaultCustomBlockDir = "/ipblock"

// CustomBlock is ip-customblock, Wazuh's template for home-made responses:
// an add creates the empty file DIR/ADDRESS, a delete removes it, and
// whatever the user built around the directory (a web server's deny list, a
// cron job) does the blocking. DIR is /ipblock unless the command's
// <extra_args> say dir=/some/path.
//
// The file name is the canonical text of an address that was validated as
// an IP address, so it never holds a separator or "..". The directory is
// opened as an os.Root, so a symlink planted in it that leads outside is
// refused rather than followed (Wazuh's fopen follows it).
//
// Unlike Wazuh's program, deleting a file that is not there is not an error
// (every action's delete is idempotent), and IPv6 files are named by the
// canonical address (2001:db8::7, not 2001:DB8:0:0::7 as the alert wrote it).
type CustomBlock struct {
	Dir string // absolute; DefaultCustomBlockDir unless extra_args say dir=

	err error // a bad dir= in extra_args; see validate
}

var _ Action = (*CustomBlock)(nil)

// NewCustomBlock returns ip-customblock on the directory that
// cfg.ExtraArgs name with dir=PATH (the last one wins), else /ipblock.
// Other arguments are ignored, as Wazuh's program ignores all of them.
func NewCustomBlock(cfg Config) *CustomBlock {
	c := &CustomBlock{Dir: DefaultCustomBlockDir}
	for _, arg := range cfg.ExtraArgs {
		v, ok := strings.CutPrefix(arg, "dir=")
		if !ok {
			continue
		}
		if !filepath.IsAbs(v) {
			c.err = fmt.Errorf("ip-customblock: dir=%q in extra_args is not an absolute path", v)
			continue
		}
		c.Dir, c.err = filepath.Clean(v), nil
	}
	return c
}

// Name is "ip-customblock".
func (c *CustomBlock) Name() string { return "ip-customblock" }

// validate refuses a relative dir=: relative to what would depend on
// where the daemon was started.
func (c *CustomBlock) validate() error { return c.err }

// Add creates the address's file, and the directory (0770) when missing.
// An existing file is left as it is.
func (c *CustomBlock) Add(_ context.Context, t Target, _ time.Time) error {
	name, err := c.fileName(t)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o770); err != nil {
		return &customBlockError{fmt.Sprintf("Error executing '%s/' : %s", c.Dir, strerror(err)), err}
	}
	root, err := os.OpenRoot(c.Dir)
	if err != nil {
		return &customBlockError{fmt.Sprintf("Error executing '%s/' : %s", c.Dir, strerror(err)), err}
	}
	defer root.Close()
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return &customBlockError{fmt.Sprintf("Error creating %s file", c.path(name)), err}
	}
	if err := f.Close(); err != nil {
		return &customBlockError{fmt.Sprintf("Error creating %s file", c.path(name)), err}
	}
	return nil
}

// Delete removes the address's file; a missing file or directory is fine.
func (c *CustomBlock) Delete(_ context.Context, t Target) error {
	name, err := c.fileName(t)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		defer root.Close()
		err = root.Remove(name)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &customBlockError{fmt.Sprintf("Error deleting %s file", c.path(name)), err}
	}
	return nil
}

// fileName is the name of t's file: its address, validated again here
// because it becomes a path.
func (c *CustomBlock) fileName(t Target) (string, error) {
	a, err := targetAddr(t)
	if err != nil {
		return "", fmt.Errorf("ip-customblock: %w", err)
	}
	return a.String(), nil
}

// path is the file's path as Wazuh's messages write it.
func (c *CustomBlock) path(name string) string { return filepath.Join(c.Dir, name) }

// customBlockError is an ip-customblock failure whose text is the line
// Wazuh's program writes to active-responses.log for it, capitals
// included: the log is an interface that Wazuh's rules read.
type customBlockError struct {
	line string
	err  error
}

func (e *customBlockError) Error() string { return e.line }
func (e *customBlockError) Unwrap() error { return e.err }

// strerror is err's OS reason as C's strerror words it ("Permission
// denied"): Go's text with a capital.
func strerror(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
