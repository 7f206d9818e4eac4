package actions

// builtin returns FreeBSD's built-ins: firewall-drop (IPFilter), pf, ipfw,
// route-null, host-deny (hosts.allow) and restart-wazuh.
func builtin(name string, cfg Config) (Action, bool) {
	switch name {
	case "firewall-drop":
		return NewIPFilter(cfg), true
	case "pf":
		return NewPF(cfg), true
	case "ipfw":
		return NewIPFW(cfg), true
	case "route-null":
		return NewRouteBlackhole(cfg), true
	case "host-deny":
		return NewHostsAllow(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return nil, false
}
