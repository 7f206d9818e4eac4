package platform

import (
	"context"
	"fmt"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/actions"
)

// dryRun is Run in a dry run: it logs which would run, the checked file
// (script) or the built-in, with its message or argv, and for an add plays
// the handshake with the key the command would send, so that the table,
// timers and deletes of a dry run behave as in a real one. A script keys
// on the alert's target as Wazuh's stock scripts do (the address, else the
// user); a built-in on what it acts upon (restart-wazuh on nothing).
//
// It writes nothing to active-responses.log: Wazuh's decoders take any
// line in that file's layout for an active-response event (their pcre2
// children read data.srcip out of a marked line too), and in a real run
// the daemon writes no lines for scripts either.
func (r *Runner) dryRun(ctx context.Context, inv engine.Invocation, check engine.CheckKeys, file string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", engine.ErrNotStarted, err)
	}
	log := r.logger().With("executable", inv.Command.Executable, "op", string(inv.Op), "protocol", inv.Command.Protocol.String())
	key := inv.Target.Key()
	if file == "" {
		log = log.With("builtin", true)
		switch actions.KindOf(inv.Command.Executable) {
		case actions.KeyNone:
			key = ""
		case actions.KeyUser:
			key = inv.Target.User
		case actions.KeyAddr:
			key = ""
			if inv.Target.Addr.IsValid() {
				key = inv.Target.Addr.String()
			}
		}
	} else {
		log = log.With("path", file)
	}
	if inv.Command.Protocol == engine.ProtocolLegacy && file != "" {
		log.Info("dry run: would run", "argv", legacyArgs(inv))
		return nil
	}
	log.Info("dry run: would run")
	log.Debug("dry run: message", "json", string(inv.Message))
	if inv.Op != engine.OpAdd {
		return nil
	}
	if key == "" {
		log.Info("dry run: no target to key on: stateless")
		return nil
	}
	verdict, err := decide([]string{key}, check)
	log.Info("dry run: check_keys", "keys", []string{key}, "verdict", verdict.String())
	return err
}
