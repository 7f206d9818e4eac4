package ossecconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad_Full(t *testing.T) {
	cfg, err := Load("testdata/full.conf")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != "testdata/full.conf" {
		t.Errorf("Source = %q", cfg.Source)
	}
	want := `command firewall-drop exe=firewall-drop args=none timeout_allowed=yes protocol=json line=23
command legacy-block exe=block.sh args=-v --table blocked timeout_allowed=no protocol=legacy line=29
response firewall-drop disabled=no location=local agent=none level=10 rules_id=5763,5712 rules_group=sshd,|pci_dss_11.4, timeout=600s repeated=30,60,1440 line=48
response legacy-block disabled=no location=defined-agent agent=007 level=0 rules_id=none rules_group=web timeout=0s repeated=5,10 line=59
response firewall-drop disabled=yes location=server agent=none level=12 rules_id=none rules_group=none timeout=0s repeated=5,10 line=68
response firewall-drop disabled=no location=all agent=none level=0 rules_id=100100 rules_group=none timeout=0s repeated=5,10 line=74
white_list 127.0.0.1
white_list 10.0.0.0/8
white_list 192.168.0.0/16
white_list 2001:db8::1
white_list 2001:db8:1::/48
white_list 172.16.0.9
white_list pattern "^localhost.localdomain$"
`
	checkText(t, "config", render(cfg), want)
	if r := cfg.Responses[0]; r.Command != cfg.Commands[0] {
		t.Errorf("response command does not point into Config.Commands")
	}
}

func TestLoad_Errors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.conf"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want os.ErrNotExist", err)
	}
	path := filepath.Join(t.TempDir(), "ossec.conf")
	if err := os.WriteFile(path, []byte(conf("  <command>\n  </command>\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	var e *Error
	if !errors.As(err, &e) || e.File != path || e.Line != 2 {
		t.Errorf("Load error = %#v, want an *Error at %s:2", err, path)
	}
}

func TestParse_MultipleRoots(t *testing.T) {
	in := "<!-- one -->\n<ossec_config>\n  <command><name>a</name><executable>a</executable></command>\n</ossec_config>\n" +
		"stray text\n<?pi here?>\n" +
		"<ossec_config/>\n" +
		"<ossec_config><command><name>b</name><executable>b</executable></command></ossec_config>"
	got := render(mustParse(t, in))
	want := "command a exe=a args=none timeout_allowed=no protocol=json line=3\n" +
		"command b exe=b args=none timeout_allowed=no protocol=json line=8\n"
	checkText(t, "config", got, want)
}

func TestParse_SkipsOtherSections(t *testing.T) {
	in := conf(`  <localfile>
    <log_format>command</log_format>
    <command>df -P</command>
  </localfile>
  <wodle name="command"><command>x</command><active-response/></wodle>
  <ruleset><global><white_list>1.1.1.1</white_list></global></ruleset>
  <global><email_to>a@b</email_to><white_list><x/></white_list></global>
`)
	checkText(t, "errors", parseErr(t, in), "test.conf:8: <white_list> in <global> must hold a value, not elements")
	in = strings.Replace(in, "<white_list><x/></white_list>", "", 1)
	checkText(t, "config", render(mustParse(t, in)), "")
}

func TestParse_BareAmpersand(t *testing.T) {
	in := conf(`  <localfile><command>a && b 2>&1 &amp; &#38; &#x26; &foo; &</command></localfile>
  <command><name>n&amp;m</name><executable>x&y</executable></command>
`)
	got := render(mustParse(t, in))
	checkText(t, "config", got, "command n&m exe=x&y args=none timeout_allowed=no protocol=json line=3\n")
}

func TestParse_Latin1(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" +
		conf("  <!-- caf\xe9 -->\n  <command><name>caf\xe9</name><executable>x</executable></command>\n")
	got := render(mustParse(t, in))
	checkText(t, "config", got, "command café exe=x args=none timeout_allowed=no protocol=json line=4\n")

	in = strings.Replace(in, "ISO-8859-1", "EBCDIC", 1)
	checkText(t, "error", parseErr(t, in),
		`test.conf:1: xml: opening charset "EBCDIC": unsupported encoding "EBCDIC": save the file as UTF-8`)
}

func TestParse_DefaultName(t *testing.T) {
	_, err := Parse(strings.NewReader("<x/>"), "")
	checkText(t, "error", err.Error(), "ossec.conf:1: unknown root element <x>: expected <ossec_config>")
}

func TestParse_TooLarge(t *testing.T) {
	in := strings.NewReader(strings.Repeat(" ", maxSize+1))
	_, err := Parse(in, "big.conf")
	checkText(t, "error", err.Error(), "big.conf:0: file is larger than 16777216 bytes")
}

func TestError_As(t *testing.T) {
	in := conf("  <command><name>a</name></command>\n  <command><executable>b</executable></command>\n")
	_, err := Parse(strings.NewReader(in), "x.conf")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As failed on %v", err)
	}
	if e.File != "x.conf" || e.Line != 2 || e.Msg != `<command> "a" has no <executable>` {
		t.Errorf("first error = %+v", *e)
	}
	multi, ok := err.(interface{ Unwrap() []error })
	if !ok || len(multi.Unwrap()) != 2 {
		t.Fatalf("want 2 joined errors, got %v", err)
	}
}

// TestParse_ExplicitlyEmpty: a file that says so, with an <ossec_config>
// root and nothing in it, configures no response at all. (An empty file is
// an error: see TestParse_ErrorLines.)
func TestParse_ExplicitlyEmpty(t *testing.T) {
	for _, in := range []string{"<ossec_config/>", "<!-- all off -->\n<ossec_config>\n</ossec_config>\n"} {
		cfg := mustParse(t, in)
		if got := render(cfg); got != "" || cfg.Source != "test.conf" {
			t.Errorf("Parse(%q) = %q, source %q; want an empty config", in, got, cfg.Source)
		}
	}
}
