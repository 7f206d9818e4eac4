package actions

import (
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// winRoute is one row of "route print": destination, gateway (invalid for
// "On-link"), interface (an address for IPv4, an index for IPv6) and metric
// (-1 in the IPv4 persistent list, which shows none).
type winRoute struct {
	Dst    netip.Prefix
	Gw     netip.Addr
	If     string
	Metric int
}

// winGateway is where route-null.exe sends a host route.
type winGateway struct {
	Addr netip.Addr
	If   string // IPv6 interface index; empty for IPv4
}

// parseWinRoutes reads the rows of "route print -4" or "-6", active and
// persistent, skipping headers and the interface list by their shape, since
// the headers are localized and the rows are not:
//
//	-4 active:      0.0.0.0          0.0.0.0      192.168.1.1   192.168.1.100     25
//	-4 persistent:  203.0.113.5  255.255.255.255      192.168.1.1  Default
//	-6 (both):      12    281 ::/0                     fe80::1
//
// An IPv6 row whose destination is long carries its gateway on the next line.
func parseWinRoutes(out []byte) []winRoute {
	var routes []winRoute
	lines := strings.Split(string(out), "\n")
	for i := 0; i < len(lines); i++ {
		f := strings.Fields(lines[i])
		if r, ok := parseWinRoute4(f); ok {
			routes = append(routes, r)
			continue
		}
		if len(f) == 3 && i+1 < len(lines) {
			if next := strings.Fields(lines[i+1]); len(next) == 1 {
				if r, ok := parseWinRoute6(append(f, next[0])); ok {
					routes = append(routes, r)
					i++
					continue
				}
			}
		}
		if r, ok := parseWinRoute6(f); ok {
			routes = append(routes, r)
		}
	}
	return routes
}

// parseWinRoute4 reads "DEST MASK GW IF METRIC" or "DEST MASK GW METRIC".
func parseWinRoute4(f []string) (winRoute, bool) {
	if len(f) != 4 && len(f) != 5 {
		return winRoute{}, false
	}
	dst, err1 := netip.ParseAddr(f[0])
	mask, err2 := netip.ParseAddr(f[1])
	if err1 != nil || err2 != nil || !dst.Is4() || !mask.Is4() {
		return winRoute{}, false
	}
	ones, bits := net.IPMask(mask.AsSlice()).Size()
	if bits == 0 {
		return winRoute{}, false
	}
	r := winRoute{Dst: netip.PrefixFrom(dst, ones), Metric: -1}
	r.Gw, _ = netip.ParseAddr(f[2]) // "On-link" leaves it invalid
	if len(f) == 5 {
		r.If = f[3]
		r.Metric, _ = strconv.Atoi(f[4])
	}
	return r, true
}

// parseWinRoute6 reads "IF METRIC DEST GW".
func parseWinRoute6(f []string) (winRoute, bool) {
	if len(f) != 4 {
		return winRoute{}, false
	}
	ifIndex, err1 := strconv.Atoi(f[0])
	metric, err2 := strconv.ParseInt(f[1], 10, 64)
	dst, err3 := netip.ParsePrefix(f[2])
	if err1 != nil || err2 != nil || err3 != nil || !dst.Addr().Is6() {
		return winRoute{}, false
	}
	r := winRoute{Dst: dst, If: strconv.Itoa(ifIndex), Metric: int(min(metric, 1<<31-1))}
	r.Gw, _ = netip.ParseAddr(f[3])
	return r, true
}

// winHasHostRoute reports whether routes hold a host route for a.
func winHasHostRoute(routes []winRoute, a netip.Addr) bool {
	want := netip.PrefixFrom(a, hostBits(a))
	for _, r := range routes {
		if r.Dst == want {
			return true
		}
	}
	return false
}

// winDefaultGateway picks the gateway of the default route (0.0.0.0/0 or
// ::/0) with the lowest metric among routes that have a gateway.
func winDefaultGateway(routes []winRoute, v4 bool) (winGateway, bool) {
	def := netip.MustParsePrefix("::/0")
	if v4 {
		def = netip.MustParsePrefix("0.0.0.0/0")
	}
	var best *winRoute
	for i, r := range routes {
		if r.Dst != def || !r.Gw.IsValid() || (v4 && r.Metric < 0) {
			continue
		}
		if best == nil || r.Metric < best.Metric {
			best = &routes[i]
		}
	}
	if best == nil {
		return winGateway{}, false
	}
	gw := winGateway{Addr: best.Gw.WithZone("")}
	if !v4 {
		gw.If = best.If
	}
	return gw, true
}

// ipconfigGatewayRE is the findstr pattern of Wazuh's route-null.exe.
var ipconfigGatewayRE = regexp.MustCompile(`Default Gateway.*[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`)

// ipconfigDefaultGateway reads "ipconfig" output as Wazuh does: of the
// lines "Default Gateway . . . : 192.168.1.1", the last one wins; the value
// is the text after the first colon. Wazuh keeps the line's trailing CRLF
// in the gateway it passes to route; we parse the value as an IPv4 address.
func ipconfigDefaultGateway(out []byte) (netip.Addr, bool) {
	var gw netip.Addr
	for line := range strings.Lines(string(out)) {
		if !ipconfigGatewayRE.MatchString(line) {
			continue
		}
		_, val, _ := strings.Cut(line, ":")
		if a, err := netip.ParseAddr(strings.TrimSpace(val)); err == nil && a.Is4() {
			gw = a
		}
	}
	return gw, gw.IsValid()
}
