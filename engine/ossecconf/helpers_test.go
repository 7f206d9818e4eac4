package ossecconf

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// render writes cfg as stable text, one line per command,
// response and white list entry, in config order.
func render(cfg *engine.Config) string {
	var b strings.Builder
	if cfg.Disabled {
		b.WriteString("disabled\n")
	}
	for _, c := range cfg.Commands {
		fmt.Fprintf(&b, "command %s exe=%s args=%s timeout_allowed=%s protocol=%s line=%d\n",
			c.Name, c.Executable, words(c.ExtraArgs), yesNo(c.TimeoutAllowed), c.Protocol, c.Line)
	}
	for _, r := range cfg.Responses {
		fmt.Fprintf(&b, "response %s disabled=%s location=%s agent=%s level=%d rules_id=%s rules_group=%s timeout=%s repeated=%s line=%d\n",
			commandName(r), yesNo(r.Disabled), r.Location, orNone(r.AgentID), r.Level,
			list(r.RulesID, ","), list(r.RulesGroup, "|"), seconds(r.Timeout), minutes(r.RepeatedOffenders), r.Line)
	}
	for _, e := range cfg.WhiteList {
		fmt.Fprintf(&b, "white_list %s\n", entryString(e))
	}
	return b.String()
}

// conf wraps body in one <ossec_config> root: body's first line is line 2.
func conf(body string) string {
	return "<ossec_config>\n" + body + "</ossec_config>\n"
}

// mustParse parses s as "test.conf" and fails the test on any error.
func mustParse(t *testing.T, s string) *engine.Config {
	t.Helper()
	cfg, err := Parse(strings.NewReader(s), "test.conf")
	if err != nil {
		t.Fatalf("Parse: %v\ninput:\n%s", err, s)
	}
	return cfg
}

// parseErr parses s as "test.conf" and returns its error text, one problem a
// line; it fails the test when s parses.
func parseErr(t *testing.T, s string) string {
	t.Helper()
	cfg, err := Parse(strings.NewReader(s), "test.conf")
	if err == nil {
		t.Fatalf("Parse succeeded, want an error; got:\n%s", render(cfg))
	}
	if cfg != nil {
		t.Errorf("Parse returned a config with its error")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("error %v is not an *Error", err)
	}
	return err.Error()
}

func checkText(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, got, want)
	}
}
