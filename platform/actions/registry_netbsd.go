package actions

// builtin returns this OS's built-ins: see netbsdBuiltin.
func builtin(name string, cfg Config) (Action, bool) {
	return netbsdBuiltin(name, cfg)
}
