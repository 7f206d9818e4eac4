package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// TestRestrictDir_Windows: the socket's directory gets a protected access
// list of full control for SYSTEM, Administrators and this user, nobody
// else, inherited by what is made inside; the directory made so passes
// ownDir. Wine keeps no access list on files (it takes the call and
// reports its own): there the list asked for is checked, and what the
// directory then holds only where the system kept it.
func TestRestrictDir_Windows(t *testing.T) {
	parent, err := os.MkdirTemp("", "tld control ") // under Wine RemoveAll of a full directory fails: not a t.TempDir
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	dir := filepath.Join(parent, "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := restrictDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := ownDir(dir); err != nil {
		t.Errorf("ownDir of a directory this process made: %v", err)
	}
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	want := "D:P(A;OICI;FA;;;S-1-5-18)(A;OICI;FA;;;S-1-5-32-544)"
	if u := user.User.Sid; !u.IsWellKnown(windows.WinLocalSystemSid) {
		want += "(A;OICI;FA;;;" + u.String() + ")"
	}
	sddl, dacl, err := ownerOnly()
	if err != nil || dacl == nil {
		t.Fatalf("ownerOnly: %v", err)
	}
	if sddl != want {
		t.Errorf("the access list asked for: %s, want %s", sddl, want)
	}
	got := daclOf(t, dir)
	if !strings.HasPrefix(got, "D:P") {
		t.Logf("this system kept no access list on the directory (Wine): it reports %s", got)
		return
	}
	if got != want {
		t.Errorf("the directory's access list: %s, want %s", got, want)
	}
	inside := filepath.Join(dir, "sock")
	if err := os.WriteFile(inside, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := daclOf(t, inside), strings.ReplaceAll(strings.TrimPrefix(want, "D:P"), "OICI;", "ID;"); got != "D:"+want {
		t.Errorf("a file inside: %s, want D:%s", got, want)
	}
}

// daclOf is path's access list in SDDL.
func daclOf(t *testing.T, path string) string {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	return sd.String()
}
