package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// AlertAction is an Action that acts on the alert itself rather than on a
// target: the notifications post it. Whoever runs an execd message hands
// an AlertAction the message's alert through Notify instead of calling Add
// or Delete, which see only the target.
type AlertAction interface {
	Action
	// Notify performs op for alert, the alert JSON as the message carries it.
	Notify(ctx context.Context, op engine.Op, alert []byte) error
}

// Notification is ossec-slack and ossec-tweeter: it posts the alert to an
// HTTP endpoint, as a Slack incoming-webhook message (format=slack, the
// default for ossec-slack) or as JSON carrying the whole alert (format=json,
// the default for ossec-tweeter: Twitter's API that Wazuh's script used is
// gone, so the name posts to whatever endpoint it is given).
//
// Settings come from the install root's etc/notify.conf (or the file that
// conf=NAME in extra_args names), then from extra_args, which win: url=,
// format=slack|json, ca=/path/to/ca.pem (trust only these CAs),
// username= and channel= (Slack). A bare http(s) URL in extra_args is the
// url, as Wazuh's wazuh-slack takes it. The file keeps the webhook's
// secret out of ossec.conf and so out of the message that execd's protocol
// logs.
//
// It is stateless (no check_keys, no timeout, nothing to delete) and a
// delete does nothing, as Wazuh's ossec-slack.sh exits at once on one.
// Each attempt has a few seconds; timeouts and 5xx answers are retried a
// few times with backoff, within about 20 s in all, under the daemon's
// 60 s limit for a built-in. Logs and errors show the endpoint as scheme
// and host only.
type Notification struct {
	name     string
	root     string // install root; "" for the working directory
	args     notifyArgs
	argsErr  error
	defaults notifySettings // by name: the format
	log      *slog.Logger

	// The time limits; fields so tests can shorten them.
	attempts       int           // tries in all
	attemptTimeout time.Duration // for each try, headers and body
	backoff        time.Duration // before the second try, doubled after
}

var _ AlertAction = (*Notification)(nil)

// NewNotification returns the notification built-in called name
// (ossec-slack or ossec-tweeter) with cfg's extra_args and root.
func NewNotification(name string, cfg Config) *Notification {
	n := &Notification{
		name: name, root: cfg.Root, log: cfg.Logger,
		attempts: 3, attemptTimeout: 5 * time.Second, backoff: time.Second,
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.defaults.Format = FormatJSON
	if name == "ossec-slack" {
		n.defaults.Format = FormatSlack
	}
	n.args, n.argsErr = parseNotifyArgs(name, cfg.ExtraArgs)
	return n
}

// Name is the name it was created under.
func (n *Notification) Name() string { return n.name }

// validate refuses extra_args that cannot be settings.
func (n *Notification) validate() error { return n.argsErr }

// errNeedsAlert is Add or Delete called on a notification, which needs the
// alert: a caller that does not know AlertAction.
var errNeedsAlert = errors.New("a notification needs the alert: call Notify")

// Add fails: a notification posts the alert, which only Notify is given.
func (n *Notification) Add(context.Context, Target, time.Time) error {
	return fmt.Errorf("%s: %w", n.name, errNeedsAlert)
}

// Delete does nothing: a notification is not undone.
func (n *Notification) Delete(context.Context, Target) error { return nil }

// Notify posts alert on add; a delete does nothing. The settings file is
// read on every add, so an edited webhook applies without a reload.
func (n *Notification) Notify(ctx context.Context, op engine.Op, alert []byte) error {
	if op != engine.OpAdd {
		return nil
	}
	if n.argsErr != nil {
		return n.argsErr
	}
	s, err := n.settings()
	if err != nil {
		return err
	}
	body, err := n.payload(s, op, alert)
	if err != nil {
		return err
	}
	return n.post(ctx, s, body)
}

// settings are the defaults, then the file's, then extra_args'.
func (n *Notification) settings() (notifySettings, error) {
	s := n.defaults
	conf := n.args.conf
	if conf == "" {
		conf = DefaultNotifyConf
	}
	fromFile, err := readNotifyConf(filepath.Join(n.root, "etc", conf), n.args.conf == "")
	if err == nil {
		err = s.apply(fromFile)
	}
	if err == nil {
		err = s.apply(n.args.settings)
	}
	if err == nil && s.URL == nil {
		err = fmt.Errorf("no url: set url= in extra_args or in etc/%s", conf)
	}
	if err != nil {
		return s, fmt.Errorf("%s: %w", n.name, err)
	}
	return s, nil
}
