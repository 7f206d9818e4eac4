package actions

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Formats of a notification's body.
const (
	FormatSlack = "slack" // a Slack incoming-webhook message: {"text": ...}
	FormatJSON  = "json"  // {"command":..., "program":..., "alert":{...}}
)

// DefaultNotifyConf is the settings file a notification reads under the
// install root's etc/ unless its extra_args name another with conf=.
const DefaultNotifyConf = "notify.conf"

// notifySettings say where and how a notification posts. None of them is
// ever logged whole: the URL's path and query are the webhook's secret.
type notifySettings struct {
	URL      *url.URL
	Format   string // FormatSlack or FormatJSON
	CA       string // PEM file of the CAs to trust instead of the system's
	Username string // Slack only: the poster's name
	Channel  string // Slack only: #channel or @user
}

// notifyArgs is what a command's extra_args set: key=value settings (conf=
// names the settings file), or a bare http(s) URL, as Wazuh's wazuh-slack
// takes its webhook.
type notifyArgs struct {
	conf     string // file name under etc/; "" for DefaultNotifyConf
	settings []setting
}

// setting is one key=value, with where it came from for errors.
type setting struct {
	key, value, where string
}

// parseNotifyArgs reads extra_args. A value that cannot be a setting
// fails here, before any handshake; the values are checked by apply.
func parseNotifyArgs(name string, extra []string) (notifyArgs, error) {
	var a notifyArgs
	for i, arg := range extra {
		if strings.HasPrefix(arg, "https://") || strings.HasPrefix(arg, "http://") {
			arg = "url=" + arg
		}
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			// not quoted: it may be a secret URL missing its scheme
			return a, fmt.Errorf("%s: extra_args: argument %d is neither key=value nor an http(s) URL", name, i+1)
		}
		if k == "conf" {
			if v == "" || v != filepath.Base(v) || v == ".." || strings.ContainsAny(v, `/\`) {
				return a, fmt.Errorf("%s: extra_args: conf=%q is not a file name in etc/", name, v)
			}
			a.conf = v
			continue
		}
		a.settings = append(a.settings, setting{k, v, "extra_args"})
	}
	var s notifySettings
	if err := s.apply(a.settings); err != nil {
		return a, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// readNotifyConf reads the settings file path: key=value lines, blank
// lines and # comments. A missing file gives no settings when missingOK.
func readNotifyConf(path string, missingOK bool) ([]setting, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && missingOK {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []setting
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			// the line is not quoted: it may be a bare secret URL
			return nil, fmt.Errorf("%s:%d: not key=value", path, n)
		}
		out = append(out, setting{strings.TrimSpace(k), strings.TrimSpace(v), fmt.Sprintf("%s:%d", path, n)})
	}
	return out, sc.Err()
}

// apply sets each setting in order, so later ones win. Errors name the
// key and where it was set, never a URL.
func (s *notifySettings) apply(settings []setting) error {
	for _, st := range settings {
		if err := s.set(st.key, st.value); err != nil {
			return fmt.Errorf("%s: %s: %w", st.where, st.key, err)
		}
	}
	return nil
}

func (s *notifySettings) set(key, value string) error {
	switch key {
	case "url":
		u, err := url.Parse(value)
		if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			return errors.New("not an http or https URL") // url.Parse's error would quote it
		}
		s.URL = u
	case "format":
		if value != FormatSlack && value != FormatJSON {
			return fmt.Errorf("%q is not %s or %s", value, FormatSlack, FormatJSON)
		}
		s.Format = value
	case "ca":
		if !filepath.IsAbs(value) {
			return fmt.Errorf("%q is not an absolute path", value)
		}
		s.CA = value
	case "username":
		s.Username = value
	case "channel":
		s.Channel = value
	default:
		return errors.New("unknown setting (want url, format, ca, username or channel)")
	}
	return nil
}

// endpoint is the URL as logs may show it: scheme and host only.
func (s *notifySettings) endpoint() string {
	if s.URL == nil {
		return ""
	}
	return s.URL.Scheme + "://" + s.URL.Host
}
