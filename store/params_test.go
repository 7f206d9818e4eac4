package store

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestParams_RoundTrip(t *testing.T) {
	random := make([]byte, 4096)
	_, _ = rand.Read(random)
	tests := []struct {
		name   string
		p      []byte
		format byte
	}{
		{"realistic alert", realParams(1), paramsFlate},
		{"one byte", []byte("{"), paramsRaw},
		{"random bytes", random, paramsRaw},
		{"1 MB of one byte", bytes.Repeat([]byte("p"), 1<<20), paramsFlate},
		{"1 MB of alerts", bytes.Repeat(realParams(2), 1<<20/len(realParams(2))), paramsFlate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := encodeParams(tt.p)
			if v[0] != tt.format {
				t.Errorf("format %d, want %d", v[0], tt.format)
			}
			if tt.format == paramsRaw && len(v) != 1+len(tt.p) {
				t.Errorf("%d bytes stored for %d raw", len(v), len(tt.p))
			}
			got, err := decodeParams([]byte("k"), v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.p) {
				t.Errorf("round trip changed %d bytes into %d", len(tt.p), len(got))
			}
			t.Logf("%d bytes stored in %d", len(tt.p), len(v))
		})
	}
}

// TestParams_Size checks the target: well under 1 KB on disk for a
// realistic alert of 1.7 KB, ours and the sample alert of Wazuh's own tests.
func TestParams_Size(t *testing.T) {
	samples := map[string][]byte{"benchAlert": realParams(12345)}
	if a, ok := wazuhSample(t); ok {
		samples["Wazuh sample"] = []byte(`{"extra_args":[],"alert":` + a + `,"program":"active-response/bin/firewall-drop"}`)
	}
	for name, p := range samples {
		n := len(encodeParams(p))
		t.Logf("%s: %d bytes of Params stored in %d (%.0f%%)", name, len(p), n, 100*float64(n)/float64(len(p)))
		if n > 512 {
			t.Errorf("%s: %d bytes stored, want at most 512", name, n)
		}
	}
}

// wazuhSample returns the alert_sample of Wazuh's integratord test case for
// a valid alert (rule 5712), folded as YAML folds it, when the shared
// workspace is there.
func wazuhSample(t *testing.T) (string, bool) {
	b, err := os.ReadFile("/work/shared/testdata/wazuh/cases_integratord_read_valid_json_alerts.yaml")
	if err != nil {
		t.Logf("Wazuh sample alert not found (%v); measuring ours only", err)
		return "", false
	}
	s := string(b)
	const key = "alert_sample: '"
	s = s[strings.Index(s, key)+len(key):]
	s = s[:strings.Index(s, "'")]
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " "), true
}

// TestParams_DictUnchanged pins params.dict: it is part of format 2, so an
// edit would make stored Params unreadable (see paramsDict).
func TestParams_DictUnchanged(t *testing.T) {
	const want = "38d80cf999eae2a419978c4f445bce1ba093e66002e9ee701859a9737d4dda96"
	sum := sha256.Sum256(paramsDict)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("params.dict has SHA-256 %s, want %s: a new dictionary needs a new params format", got, want)
	}
}

// TestParams_Corrupt checks what TestCodec_Corrupt cannot: a stream longer
// or shorter than its length, and a length beyond what it could hold.
func TestParams_Corrupt(t *testing.T) {
	stream := encodeParams(realParams(0))[3:] // format, 2-byte length
	n := len(realParams(0))
	for name, v := range map[string][]byte{
		"longer than its length":  append([]byte{paramsFlate, byte(n - 1&0x7f | 0x80), byte((n - 1) >> 7)}, stream...),
		"shorter than its length": append([]byte{paramsFlate, byte(n + 1&0x7f | 0x80), byte((n + 1) >> 7)}, stream...),
		"huge length":             {paramsFlate, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x03, 0x00},
		"empty":                   {},
	} {
		if _, err := decodeParams([]byte("k"), v); err == nil || !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("%s: error %v, want one naming the key", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// BenchmarkParams times encodeParams and decodeParams on realistic alerts
// and reports the bytes stored per entry:
//
//	go test -run '^$' -bench Params ./store/
//
// The level sub-benchmarks compare flate levels, with and without the
// preset dictionary, on the same alerts (encoding only).
func BenchmarkParams(b *testing.B) {
	alerts := make([][]byte, 1000)
	raw := 0
	for i := range alerts {
		alerts[i] = realParams(i * 97)
		raw += len(alerts[i])
	}
	b.Run("encode", func(b *testing.B) {
		stored := 0
		for i := 0; b.Loop(); i++ {
			stored += len(encodeParams(alerts[i%len(alerts)]))
		}
		b.ReportMetric(float64(stored)/float64(b.N), "stored-B/op")
		b.ReportMetric(float64(raw)/float64(len(alerts)), "raw-B/op")
	})
	b.Run("decode", func(b *testing.B) {
		stored := make([][]byte, len(alerts))
		for i, p := range alerts {
			stored[i] = encodeParams(p)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := decodeParams([]byte("k"), stored[i%len(stored)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		for _, dict := range [][]byte{nil, paramsDict} {
			b.Run(fmt.Sprintf("level-%d/dict-%d", level, len(dict)), func(b *testing.B) { benchLevel(b, alerts, level, dict) })
		}
	}
}

func benchLevel(b *testing.B, alerts [][]byte, level int, dict []byte) {
	w, err := flate.NewWriterDict(nil, level, dict)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	stored := 0
	for i := 0; b.Loop(); i++ {
		buf.Reset()
		w.Reset(&buf)
		_, _ = w.Write(alerts[i%len(alerts)])
		_ = w.Close()
		stored += buf.Len()
	}
	b.ReportMetric(float64(stored)/float64(b.N), "stored-B/op")
}
