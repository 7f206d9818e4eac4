package actions

// builtin returns macOS's built-ins: pf, route-null and restart-wazuh.
// macOS has had no ipfw since 10.10 and no TCP wrappers, and Wazuh's
// firewall-drop does nothing there ("Invalid system").
func builtin(name string, cfg Config) (Action, bool) {
	switch name {
	case "pf":
		return NewPF(cfg), true
	case "route-null":
		return NewRouteBlackhole(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return nil, false
}
