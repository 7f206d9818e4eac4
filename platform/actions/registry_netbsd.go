package actions

// builtin returns NetBSD's built-ins: firewall-drop (IPFilter), npf,
// host-deny (hosts.deny, as on Linux: Wazuh treats every system but
// FreeBSD alike) and restart-wazuh. Wazuh's route-null does nothing on
// NetBSD ("Invalid system").
func builtin(name string, cfg Config) (Action, bool) {
	switch name {
	case "firewall-drop":
		return NewIPFilter(cfg), true
	case "npf":
		return NewNPF(cfg), true
	case "host-deny":
		return NewHostDeny(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return nil, false
}
