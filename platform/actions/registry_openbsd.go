package actions

// builtin returns this OS's built-ins: see openbsdBuiltin.
func builtin(name string, cfg Config) (Action, bool) {
	return openbsdBuiltin(name, cfg)
}
