package actions

// builtin returns Linux's built-in actions: Wazuh's Linux programs and
// the portable ones (ip-customblock, the notifications).
func builtin(name string, cfg Config) (Action, bool) {
	switch name {
	case "firewall-drop":
		return NewFirewallDrop(cfg), true
	case "firewalld-drop":
		return NewFirewalldDrop(cfg), true
	case "host-deny":
		return NewHostDeny(cfg), true
	case "route-null":
		return NewRouteNull(cfg), true
	case "disable-account":
		return NewDisableAccount(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return portableBuiltin(name, cfg)
}
