package ossecconf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that it returns a config or
// errors (never both, never neither), and that every error is an *Error.
// Run it with: go test -fuzz FuzzParse ./engine/ossecconf/
func FuzzParse(f *testing.F) {
	f.Add(Default)
	f.Add([]byte(conf(fw + "<active-response><command>fw</command><location>local</location><timeout>-1</timeout></active-response>")))
	f.Add([]byte("<ossec_config><global><white_list>10.0.0.0/255.0.0.0</white_list></global></ossec_config><ossec_config/>"))
	f.Add([]byte("<ossec_config><command>&amp;&#x26;&</command>"))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.conf"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(bytes.NewReader(data), "fuzz.conf")
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one", cfg, err)
		}
		if err != nil {
			checkErrors(t, err)
			return
		}
		for _, r := range cfg.Responses {
			if r.Command == nil {
				t.Fatalf("response at line %d has no command", r.Line)
			}
		}
		if !Equal(cfg, cfg) {
			t.Fatal("config not Equal to itself")
		}
	})
}

func checkErrors(t *testing.T, err error) {
	t.Helper()
	multi, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %v is not joined", err)
	}
	for _, e := range multi.Unwrap() {
		var pe *Error
		if !errors.As(e, &pe) || !strings.HasPrefix(pe.Error(), "fuzz.conf:") {
			t.Fatalf("error %v is not a *Error of fuzz.conf", e)
		}
	}
}
