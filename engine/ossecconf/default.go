package ossecconf

import _ "embed"

// Default is a valid ossec.conf for a new install: Wazuh's standard commands,
// a white list of the loopback addresses and one example response (block an
// SSH brute force for ten minutes). It is commented for a first reader.
//
//go:embed default.conf
var Default []byte
