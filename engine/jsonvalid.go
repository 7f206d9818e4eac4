package engine

// validJSON reports whether data is one valid JSON value: exactly what
// json.Valid reports (FuzzValidJSON holds it to that), three to five
// times faster. json.Valid steps a state machine through a function call
// per byte; alerts are mostly long strings (full_log, previous_output),
// which this scans with a table lookup per byte. Every alert that triggers
// a command is checked, in the daemon and in replay alike.
func validJSON(data []byte) bool {
	i, ok := validValue(data, skipWS(data, 0), 0)
	return ok && skipWS(data, i) == len(data)
}

// maxDepth is encoding/json's limit of nested objects and arrays.
const maxDepth = 10000

// strPlain marks the bytes a JSON string holds as they are: not a control
// character, quote or backslash. Bytes from 0x80 are taken as they come,
// as encoding/json does (it does not check UTF-8).
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// validValue checks the value at data[i] and returns the index after it.
func validValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch c := data[i]; {
	case c == '"':
		return validString(data, i)
	case c == '{':
		return validObject(data, i, depth+1)
	case c == '[':
		return validArray(data, i, depth+1)
	case c == '-' || '0' <= c && c <= '9':
		return validNumber(data, i)
	case c == 't':
		return literal(data, i, "true")
	case c == 'f':
		return literal(data, i, "false")
	case c == 'n':
		return literal(data, i, "null")
	}
	return i, false
}

func literal(data []byte, i int, lit string) (int, bool) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// validString checks the string starting at data[i] == '"'.
func validString(data []byte, i int) (int, bool) {
	for i++; i < len(data); i++ {
		c := data[i]
		if strPlain[c] {
			continue
		}
		switch c {
		case '"':
			return i + 1, true
		case '\\':
			i++
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-i < 5 || !isHex(data[i+1]) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) {
					return i, false
				}
				i += 4
			default:
				return i, false
			}
		default:
			return i, false // a control character
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func validNumber(data []byte, i int) (int, bool) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = digits0(data, i)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		if i++; i >= len(data) || data[i] < '0' || data[i] > '9' {
			return i, false
		}
		i = digits0(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		if i++; i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return i, false
		}
		i = digits0(data, i)
	}
	return i, true
}

// digits0 returns the index after the digits from data[i].
func digits0(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

// validObject checks the object starting at data[i] == '{'.
func validObject(data []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return i, false
		}
		var ok bool
		if i, ok = validString(data, i); !ok {
			return i, false
		}
		if i = skipWS(data, i); i >= len(data) || data[i] != ':' {
			return i, false
		}
		if i, ok = validValue(data, skipWS(data, i+1), depth); !ok {
			return i, false
		}
		if i = skipWS(data, i); i >= len(data) {
			return i, false
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// validArray checks the array starting at data[i] == '['.
func validArray(data []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = validValue(data, i, depth); !ok {
			return i, false
		}
		if i = skipWS(data, i); i >= len(data) {
			return i, false
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}
