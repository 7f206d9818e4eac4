package engine

import (
	"bytes"
	"strconv"
)

// Alert holds the fields of one alert that matching, validation and the
// legacy protocol need. Byte slices point into the decoded line (or into the
// Alert's own scratch space) and are valid until the next Decode.
type Alert struct {
	Level    int
	RuleID   []byte
	Groups   []byte // lower-case group string: "syslog,sshd,pci_dss_11.4,"
	AgentID  []byte // nil when the alert has no agent
	SrcIP    []byte // the source address, in Wazuh's order: see Decode
	DstUser  []byte
	ID       []byte
	Location []byte // the log location, e.g. /var/log/secure
	Filename []byte // syscheck.path
	// Timestamp is the alert's "timestamp" text (alerts.json only), for
	// replay's simulated clock; matching does not use it.
	Timestamp []byte

	hasAgent bool
	groups   []byte
	srcIP    []byte // data.srcip
	winIP    []byte // data.win.eventdata.ipAddress, when a string
	winDstIP []byte // data.win.eventdata.destinationIp, when a string
}

// complianceGroups are the arrays alerts.json moves out of rule.groups; their
// values go back into the group string with this prefix, as analysisd has them.
var complianceGroups = map[string]string{
	"pci_dss":     "pci_dss_",
	"gdpr":        "gdpr_",
	"hipaa":       "hipaa_",
	"nist_800_53": "nist_800_53_",
	"tsc":         "tsc_",
	"gpg13":       "gpg13_",
}

func (a *Alert) reset() {
	*a = Alert{groups: a.groups[:0]}
}

// Decode reads the fields of the alert in data, one alerts.json line. It
// reports malformed JSON in the parts it walks.
//
// SrcIP is the address Wazuh 4.14.7's programs act upon
// (get_srcip_from_json in src/active-response/active_responses.c): a Windows
// event's data.win.eventdata.ipAddress, else its destinationIp (Sysmon's
// network events), else data.srcip; the Windows fields count only as JSON
// strings. Unlike Wazuh, an empty or "-" Windows field (a logon without an
// address) counts as absent, so the next field is used: Wazuh's programs
// refuse the whole alert then.
func (a *Alert) Decode(data []byte) error {
	a.reset()
	end, err := walkObject(data, 0, func(k []byte, i int) (int, error) { return a.top(k, i, data) })
	if err != nil {
		return err
	}
	if i := skipWS(data, end); i != len(data) {
		return syntaxErr(data, i, "trailing data after the alert")
	}
	a.Groups = a.groups
	switch {
	case winAddress(a.winIP):
		a.SrcIP = a.winIP
	case winAddress(a.winDstIP):
		a.SrcIP = a.winDstIP
	default:
		a.SrcIP = a.srcIP
	}
	return nil
}

// winAddress reports whether a Windows event field holds an address: Windows
// writes "-" where it has none.
func winAddress(v []byte) bool { return len(v) > 0 && string(v) != "-" }

func (a *Alert) top(key []byte, at int, data []byte) (int, error) {
	switch string(key) {
	case "rule":
		return member(data, at, func(k []byte, i int) (int, error) { return a.rule(k, i, data) })
	case "agent":
		a.hasAgent = true
		return member(data, at, func(k []byte, i int) (int, error) {
			if string(k) == "id" {
				return scalar(data, i, &a.AgentID)
			}
			return skipValue(data, i)
		})
	case "data":
		return member(data, at, func(k []byte, i int) (int, error) { return a.dataField(k, i, data) })
	case "syscheck":
		return member(data, at, func(k []byte, i int) (int, error) {
			if string(k) == "path" {
				return scalar(data, i, &a.Filename)
			}
			return skipValue(data, i)
		})
	case "id":
		return scalar(data, at, &a.ID)
	case "location":
		return scalar(data, at, &a.Location)
	case "timestamp":
		return scalar(data, at, &a.Timestamp)
	}
	return skipValue(data, at)
}

func (a *Alert) rule(key []byte, at int, data []byte) (int, error) {
	switch string(key) {
	case "level":
		var v []byte
		next, err := scalar(data, at, &v)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return 0, syntaxErr(data, at, "rule.level is not an integer")
		}
		a.Level = n
		return next, nil
	case "id":
		return scalar(data, at, &a.RuleID)
	case "groups":
		return a.groupList(data, at, "")
	}
	if prefix, ok := complianceGroups[string(key)]; ok {
		return a.groupList(data, at, prefix)
	}
	return skipValue(data, at)
}

func (a *Alert) dataField(key []byte, at int, data []byte) (int, error) {
	switch string(key) {
	case "srcip":
		return scalar(data, at, &a.srcIP)
	case "dstuser":
		return scalar(data, at, &a.DstUser)
	case "win":
		return member(data, at, func(k []byte, i int) (int, error) {
			if string(k) != "eventdata" {
				return skipValue(data, i)
			}
			return member(data, i, func(k []byte, i int) (int, error) {
				switch string(k) {
				case "ipAddress":
					return stringValue(data, i, &a.winIP)
				case "destinationIp":
					return stringValue(data, i, &a.winDstIP)
				}
				return skipValue(data, i)
			})
		})
	}
	return skipValue(data, at)
}

// groupList appends the strings of the array at data[at], lower-cased and
// each followed by a comma, to the group string.
func (a *Alert) groupList(data []byte, at int, prefix string) (int, error) {
	if at >= len(data) || data[at] != '[' {
		return skipValue(data, at) // not a list: no groups
	}
	return walkArray(data, at, func(i int) (int, error) {
		var v []byte
		next, err := scalar(data, i, &v)
		if err != nil {
			return 0, err
		}
		a.groups = append(a.groups, prefix...)
		for _, c := range v {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			a.groups = append(a.groups, c)
		}
		a.groups = append(a.groups, ',')
		return next, nil
	})
}

// member walks the object at data[at] with field; a value of another type
// where an object is expected (an odd but valid alert) is skipped.
func member(data []byte, at int, field func(key []byte, at int) (int, error)) (int, error) {
	if at >= len(data) || data[at] != '{' {
		return skipValue(data, at)
	}
	return walkObject(data, at, field)
}

// stringValue reads the string at data[at] into *dst; a value of any other
// type is skipped and leaves *dst nil.
func stringValue(data []byte, at int, dst *[]byte) (int, error) {
	if at < len(data) && data[at] == '"' {
		return scalar(data, at, dst)
	}
	return skipValue(data, at)
}

// scalar reads a string or a bare scalar (number, true, false) at data[at]
// into *dst. null leaves *dst nil; objects and arrays are skipped.
func scalar(data []byte, at int, dst *[]byte) (int, error) {
	if at < len(data) && data[at] == '"' {
		raw, next, err := scanString(data, at)
		if err != nil {
			return 0, err
		}
		v, err := unquote(raw, bytes.IndexByte(raw, '\\') >= 0)
		if err != nil {
			return 0, err
		}
		*dst = v
		return next, nil
	}
	next, err := skipValue(data, at)
	if err != nil {
		return 0, err
	}
	if c := data[at]; c != '{' && c != '[' && !bytes.Equal(data[at:next], []byte("null")) {
		*dst = data[at:next]
	}
	return next, nil
}
