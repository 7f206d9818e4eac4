package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

var validJSONCases = []string{
	``, ` `, `1`, ` 1 `, `1 2`, `01`, `-`, `-0`, `-01`, `1.`, `1.5`, `1e`, `1E+2`, `-0.5e-3`, `1e+`, `.5`, `+1`,
	`true`, `tru`, `false`, `null`, `nul`, `nulls`, `"`, `""`, `"a`, `"\"`, `"\\"`, `"\u12"`, `"\u12ab"`, `"\U12ab"`,
	`"\x"`, `"\/\b\f\n\r\t"`, "\"\t\"", "\"\x01\"", "\"\x7f\"", "\"\xff\xfe\"", `[]`, `[1,]`, `[,1]`, `[1 2]`,
	`[1,[2,[3]]]`, `{}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":[{"b":{}}]}`, `{"a":1}}`, `[}`, `{]`,
	"\n\t\r {\"a\" : [ 1 , 2 ] } \r\n", `{"a":1}x`, `"\ud800"`, `[-]`, `[1e5,-0.0,0e0]`,
}

func TestValidJSON_SameAsEncodingJSON(t *testing.T) {
	cases := append([]string{}, validJSONCases...)
	for _, l := range loadAlerts(t) {
		cases = append(cases, string(l), string(l[:len(l)/2]), string(l)+",")
	}
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		cases = append(cases, strings.Repeat("[", depth)+strings.Repeat("]", depth), strings.Repeat(`{"a":`, depth)+"1"+strings.Repeat("}", depth))
	}
	for _, c := range cases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, c := range validJSONCases {
		f.Add([]byte(c))
	}
	for _, l := range loadAlerts(f) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", data, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	lines := loadAlerts(b)
	for _, bc := range []struct {
		name  string
		valid func([]byte) bool
	}{{"ours", validJSON}, {"encoding_json", json.Valid}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(lines[0])))
			for b.Loop() {
				if !bc.valid(lines[0]) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
