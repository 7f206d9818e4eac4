package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// A tiny JSON scanner for the hot path. Alerts are large (the full log, the
// previous output, MITRE data, decoder fields) but matching needs a dozen
// scalar fields, so the scanner walks the top object, descends only into the
// objects that hold those fields and skips every other value without decoding
// it. It checks the structure it walks (quotes, brackets, delimiters); a line
// that reaches a command is also checked in full with validJSON first.

var errSyntax = errors.New("malformed JSON")

func syntaxErr(data []byte, i int, what string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, i, what)
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString expects data[i] == '"' and returns the raw contents (without
// quotes) and the index after the closing quote. Whether the contents hold
// escapes is left to the caller that reads them (scalar): most strings are
// skipped, and a second pass over each to look for backslashes took a
// sixth of decoding.
func scanString(data []byte, i int) (raw []byte, next int, err error) {
	start := i + 1
	j := start
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return nil, 0, syntaxErr(data, i, "unterminated string")
		}
		end := j + k
		// Count the backslashes right before the quote: an odd count escapes it.
		n := 0
		for p := end - 1; p >= start && data[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return data[start:end], end + 1, nil
		}
		j = end + 1
	}
}

// unquote returns the string value of raw JSON string contents. It allocates
// only when the contents hold escapes.
func unquote(raw []byte, escaped bool) ([]byte, error) {
	if !escaped {
		return raw, nil
	}
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if err := json.Unmarshal(q, &s); err != nil {
		return nil, fmt.Errorf("%w: bad string escape", errSyntax)
	}
	return []byte(s), nil
}

// skipValue skips one JSON value starting at data[i] and returns the index
// after it.
func skipValue(data []byte, i int) (int, error) {
	i = skipWS(data, i)
	if i >= len(data) {
		return 0, syntaxErr(data, i, "value expected")
	}
	switch c := data[i]; c {
	case '"':
		_, next, err := scanString(data, i)
		return next, err
	case '{', '[':
		return skipNested(data, i)
	default:
		j := i
		for j < len(data) && !isDelim(data[j]) {
			j++
		}
		if j == i {
			return 0, syntaxErr(data, i, fmt.Sprintf("unexpected %q", c))
		}
		return j, nil
	}
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
		return true
	}
	return false
}

// skipNested skips an object or array, tracking depth and strings only.
// Any depth is accepted: a deeply nested field nobody reads must not hide
// an alert from matching. Bracket kinds are not paired here; an alert that
// triggers a command is checked in full with validJSON.
func skipNested(data []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '"':
			_, next, err := scanString(data, j)
			if err != nil {
				return 0, err
			}
			j = next - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, syntaxErr(data, i, "unterminated object or array")
}

// walkObject calls field for each member of the object at data[i] with the
// raw key and the index of its value. field returns the index after the
// value (it either parses or skips it). walkObject returns the index after
// the object.
func walkObject(data []byte, i int, field func(key []byte, at int) (int, error)) (int, error) {
	i = skipWS(data, i)
	if i >= len(data) || data[i] != '{' {
		return 0, syntaxErr(data, i, "object expected")
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return 0, syntaxErr(data, i, "member name expected")
		}
		key, next, err := scanString(data, i)
		if err != nil {
			return 0, err
		}
		i = skipWS(data, next)
		if i >= len(data) || data[i] != ':' {
			return 0, syntaxErr(data, i, "colon expected")
		}
		if i, err = field(key, skipWS(data, i+1)); err != nil {
			return 0, err
		}
		i = skipWS(data, i)
		if i >= len(data) {
			return 0, syntaxErr(data, i, "unterminated object")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, syntaxErr(data, i, "comma or } expected")
		}
	}
}

// walkArray calls elem for each element of the array at data[i].
func walkArray(data []byte, i int, elem func(at int) (int, error)) (int, error) {
	i = skipWS(data, i)
	if i >= len(data) || data[i] != '[' {
		return 0, syntaxErr(data, i, "array expected")
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = elem(i); err != nil {
			return 0, err
		}
		i = skipWS(data, i)
		if i >= len(data) {
			return 0, syntaxErr(data, i, "unterminated array")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, syntaxErr(data, i, "comma or ] expected")
		}
	}
}
