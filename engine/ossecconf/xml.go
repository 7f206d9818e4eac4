package ossecconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// field is one child element of a section we read.
type field struct {
	name   string
	line   int
	text   string // its character data, trimmed
	nested bool   // it held elements, where only text belongs
}

// section is one top-level <command>, <active-response> or <global>.
type section struct {
	name   string
	line   int
	fields []field
}

// used are the sections of <ossec_config> this package reads.
var used = map[string]bool{"command": true, "active-response": true, "global": true}

// reader walks the token stream of a config file. Each token's line is taken
// from Decoder.InputPos before the token is read: whitespace before a tag is a
// token of its own, so that is the line of the tag's "<".
type reader struct {
	d     *xml.Decoder
	p     *problems
	roots int // <ossec_config> elements read
}

func newReader(data []byte, p *problems) *reader {
	d := xml.NewDecoder(bytes.NewReader(escapeBareAmpersands(data)))
	d.CharsetReader = charsetReader
	return &reader{d: d, p: p}
}

func (r *reader) token() (xml.Token, int, error) {
	line, _ := r.d.InputPos()
	tok, err := r.d.Token()
	return tok, line, err
}

// read calls fn with each section we use, in file order. It stops at the first
// XML syntax error, which it records: nothing after it can be trusted.
func (r *reader) read(fn func(section)) {
	for {
		tok, line, err := r.token()
		if err == io.EOF {
			return
		}
		if err == nil {
			err = r.root(tok, line, fn)
		}
		if err != nil {
			r.syntax(err, line)
			return
		}
	}
}

// root handles one top-level token: an <ossec_config> is read, any other
// element is an error (as in Wazuh), text and comments between them are not.
func (r *reader) root(tok xml.Token, line int, fn func(section)) error {
	start, ok := tok.(xml.StartElement)
	if !ok {
		return nil
	}
	if name := elemName(start.Name); name != "ossec_config" {
		r.p.add(line, "unknown root element <%s>: expected <ossec_config>", name)
		return r.d.Skip()
	}
	r.roots++
	for {
		tok, line, err := r.token()
		if err != nil {
			return noEOF(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := r.child(t, line, fn); err != nil {
				return err
			}
		}
	}
}

// child handles one child of <ossec_config>.
func (r *reader) child(start xml.StartElement, line int, fn func(section)) error {
	s := section{name: elemName(start.Name), line: line}
	if !used[s.name] {
		return r.d.Skip()
	}
	for {
		tok, line, err := r.token()
		if err != nil {
			return noEOF(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			fn(s)
			return nil
		case xml.StartElement:
			f, err := r.field(t, line)
			if err != nil {
				return err
			}
			s.fields = append(s.fields, f)
		}
	}
}

// field reads one element of a section up to its end tag.
func (r *reader) field(start xml.StartElement, line int) (field, error) {
	f := field{name: elemName(start.Name), line: line}
	var text strings.Builder
	for {
		tok, err := r.d.Token()
		if err != nil {
			return f, noEOF(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			f.nested = true
			if err := r.d.Skip(); err != nil {
				return f, err
			}
		case xml.EndElement:
			f.text = strings.TrimSpace(text.String())
			return f, nil
		}
	}
}

// syntax records a decoding error at its line.
func (r *reader) syntax(err error, line int) {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		r.p.add(se.Line, "xml syntax error: %s", se.Msg)
		return
	}
	r.p.add(line, "%v", err)
}

// noEOF turns an end of input inside an element into the error it is. The
// strict decoder reports that itself; this is a guard.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func elemName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// escapeBareAmpersands turns each "&" that does not start one of XML's
// predefined or numeric entities into "&amp;". Wazuh's XML reader takes "&"
// literally, so "<command>df -P 2>&1</command>" in a <localfile> is valid
// there; encoding/xml would refuse it. No newline is added or removed, so
// line numbers are kept.
func escapeBareAmpersands(data []byte) []byte {
	if bytes.IndexByte(data, '&') < 0 {
		return data
	}
	out := make([]byte, 0, len(data)+64)
	for i, c := range data {
		if c == '&' && !isEntity(data[i+1:]) {
			out = append(out, "&amp;"...)
			continue
		}
		out = append(out, c)
	}
	return out
}

// isEntity reports whether rest (what follows an "&") is an entity reference
// encoding/xml resolves by itself.
func isEntity(rest []byte) bool {
	end := bytes.IndexByte(rest, ';')
	if end < 1 || end > 12 {
		return false
	}
	name := string(rest[:end])
	switch name {
	case "amp", "lt", "gt", "apos", "quot":
		return true
	}
	digits, hex := strings.CutPrefix(name, "#x")
	if !hex {
		var ok bool
		if digits, ok = strings.CutPrefix(name, "#"); !ok {
			return false
		}
	}
	return digits != "" && strings.Trim(digits, "0123456789abcdefABCDEF") == "" &&
		(hex || strings.Trim(digits, "0123456789") == "")
}

// charsetReader lets a file declare a Latin-1 or ASCII encoding, which old
// ossec.conf files sometimes do; UTF-8 needs no reader.
func charsetReader(charset string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii":
	default:
		return nil, fmt.Errorf("unsupported encoding %q: save the file as UTF-8", charset)
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return nil, err
	}
	runes := make([]rune, len(data))
	for i, b := range data {
		runes[i] = rune(b)
	}
	return strings.NewReader(string(runes)), nil
}
