package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/internal/arproto"
)

// DryRunMarker starts every message DryRunner writes to active-responses.log.
// The line keeps Wazuh's layout, but its message is no longer bare JSON, so
// Wazuh's ar_log_json decoder and the "Host Blocked" rules do not take a
// rehearsal for a block.
const DryRunMarker = "(dry-run) "

// DryRunner runs nothing. It logs every command it would run, with its message
// or argv, and writes the lines a run would write to active-responses.log,
// marked with DryRunMarker. For an add under the JSON protocol it plays the
// handshake a stock script would: the key is the alert's source IP
// (data.win.eventdata.ipAddress, else data.srcip), else its data.dstuser; an
// alert with neither is stateless. So the table, timers and deletes of a dry
// run behave as in a real one.
type DryRunner struct {
	Log    *ARLog       // nil writes nothing
	Logger *slog.Logger // slog.Default() when nil
}

var _ engine.Runner = (*DryRunner)(nil)

// Run logs inv and, for a JSON add with a key, calls check. It returns check's
// error; a refused name or a done ctx is an error wrapping engine.ErrNotStarted.
func (d *DryRunner) Run(ctx context.Context, inv engine.Invocation, check engine.CheckKeys) error {
	name := inv.Command.Executable
	log := d.logger().With("executable", name, "op", string(inv.Op), "protocol", inv.Command.Protocol.String())
	if err := checkName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", engine.ErrNotStarted, err)
	}
	d.note(log, name, "Starting")
	if inv.Command.Protocol == engine.ProtocolLegacy {
		args := legacyArgs(inv)
		log.Info("dry run: would run", "argv", args)
		d.note(log, name, strings.Join(args, " "))
	} else {
		log.Info("dry run: would run", "message", string(inv.Message))
		d.note(log, name, string(inv.Message))
		if inv.Op == engine.OpAdd {
			aborted, err := d.handshake(log, inv, check)
			if aborted || err != nil {
				return err
			}
		}
	}
	d.note(log, name, "Ended")
	return nil
}

// handshake plays check_keys with the predicted key and logs the answer.
func (d *DryRunner) handshake(log *slog.Logger, inv engine.Invocation, check engine.CheckKeys) (aborted bool, err error) {
	name := inv.Command.Executable
	keys := predictKeys(inv.Message)
	if keys == nil {
		log.Info("dry run: no srcip or dstuser in the alert: stateless")
		return false, nil
	}
	d.note(log, name, string(arproto.CheckKeysLine(name, keys)))
	dec, err := check(keys)
	verdict := dec.Verdict
	if err != nil {
		verdict = engine.Abort
	}
	log.Info("dry run: check_keys", "keys", keys, "verdict", verdict.String(), "expires", dec.Expires)
	if ans, mErr := arproto.SetCommand(inv.Message, verdict.String()); mErr == nil {
		d.note(log, name, string(ans))
	}
	if verdict == engine.Abort {
		d.note(log, name, "Aborted")
		return true, err
	}
	return false, nil
}

func (d *DryRunner) note(log *slog.Logger, executable, msg string) {
	arNote(d.Log, log, executable, DryRunMarker+msg)
}

func (d *DryRunner) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// predictKeys returns the key a stock script would send for the alert in msg,
// or nil when it has none.
func predictKeys(msg []byte) []string {
	data := []string{"parameters", "alert", "data"}
	for _, path := range [][]string{
		append(data[:3:3], "win", "eventdata", "ipAddress"),
		append(data[:3:3], "srcip"),
		append(data[:3:3], "dstuser"),
	} {
		if s, ok := jsonString(msg, path...); ok && s != "" {
			return []string{s}
		}
	}
	return nil
}

// jsonString returns the string at path in the JSON object doc.
func jsonString(doc []byte, path ...string) (string, bool) {
	raw := json.RawMessage(doc)
	for _, key := range path {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return "", false
		}
		if raw = obj[key]; raw == nil {
			return "", false
		}
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}
