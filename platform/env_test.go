package platform

import (
	"slices"
	"testing"
)

func TestCommandEnv(t *testing.T) {
	daemon := []string{
		"PATH=.:/usr/sbin::/usr/bin:bin", "HOME=/root", "LANG=C.UTF-8", "LC_ALL=C", "LANGUAGE=en",
		"TZ=UTC", "WAZUH_API_TOKEN=secret", "HTTPS_PROXY=http://user:pass@proxy", "LD_PRELOAD=/tmp/x.so",
		"=C:=C:\\", "malformed",
	}
	tests := []struct {
		name    string
		environ []string
		windows bool
		want    []string
	}{
		{"unix", daemon, false, []string{"PATH=/usr/sbin:/usr/bin", "LANG=C.UTF-8", "LC_ALL=C", "LANGUAGE=en", "TZ=UTC"}},
		{"unix without PATH", []string{"HOME=/"}, false, []string{"PATH=" + defaultPath}},
		{"unix with only relative PATH", []string{"PATH=.:bin"}, false, []string{"PATH=" + defaultPath}},
		{"windows", []string{
			`Path=C:\Windows\system32;C:\Windows`, "PATHEXT=.COM;.EXE", `SystemRoot=C:\Windows`, "windir=C:\\Windows",
			"ComSpec=C:\\Windows\\system32\\cmd.exe", "TEMP=C:\\Temp", "USERPROFILE=C:\\Users\\x", "API_KEY=secret", "LANG=C",
		}, true, []string{
			`Path=C:\Windows\system32;C:\Windows`, "PATHEXT=.COM;.EXE", `SystemRoot=C:\Windows`, "windir=C:\\Windows",
			"ComSpec=C:\\Windows\\system32\\cmd.exe", "TEMP=C:\\Temp",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commandEnv(tt.environ, tt.windows); !slices.Equal(got, tt.want) {
				t.Errorf("commandEnv =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
