package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// The records below are the file format. They mirror the engine types field
// by field but carry their own JSON names, so that the engine may rename
// fields without breaking stores already on disk.

type commandRecord struct {
	Name           string   `json:"name"`
	Executable     string   `json:"executable"`
	ExtraArgs      []string `json:"extra_args,omitempty"`
	TimeoutAllowed bool     `json:"timeout_allowed,omitempty"`
	Protocol       int      `json:"protocol"`
	Line           int      `json:"line,omitempty"`
}

type fieldsRecord struct {
	User     string `json:"user"`
	SrcIP    string `json:"srcip"`
	AlertID  string `json:"alert_id"`
	RuleID   string `json:"rule_id"`
	Location string `json:"location"`
	Filename string `json:"filename"`
}

type entryRecord struct {
	Seq      uint64        `json:"seq"`
	Lane     string        `json:"lane"`
	Command  commandRecord `json:"command"`
	Params   []byte        `json:"params,omitempty"` // base64: exact bytes back
	Fields   fieldsRecord  `json:"fields"`
	Created  time.Time     `json:"created"`
	Expires  time.Time     `json:"expires"`
	Offences int           `json:"offences,omitempty"`
}

type jobRecord struct {
	Lane     string          `json:"lane"`
	Command  commandRecord   `json:"command"`
	Params   []byte          `json:"params,omitempty"`
	Fields   fieldsRecord    `json:"fields"`
	Timeout  time.Duration   `json:"timeout_ns,omitempty"`
	Repeated []time.Duration `json:"repeated_ns,omitempty"`
}

type positionRecord struct {
	FileID string `json:"file_id"`
	Offset int64  `json:"offset"`
}

func encodeEntry(e engine.Entry) ([]byte, error) {
	return json.Marshal(entryRecord{
		Seq: e.Seq, Lane: e.Lane, Command: commandToRecord(e.Command),
		Params: e.Params, Fields: fieldsRecord(e.Fields),
		Created: e.Created.UTC(), Expires: e.Expires.UTC(), Offences: e.Offences,
	})
}

func decodeEntry(key string, v []byte) (engine.Entry, error) {
	var r entryRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return engine.Entry{}, fmt.Errorf("decode entry %q: %w", key, err)
	}
	return engine.Entry{
		Key: key, Seq: r.Seq, Lane: r.Lane, Command: r.Command.command(),
		Params: r.Params, Fields: engine.Fields(r.Fields),
		Created: r.Created, Expires: r.Expires, Offences: r.Offences,
	}, nil
}

func encodeJob(j engine.Job) ([]byte, error) {
	return json.Marshal(jobRecord{
		Lane: j.Lane, Command: commandToRecord(j.Command), Params: j.Params,
		Fields: fieldsRecord(j.Fields), Timeout: j.Timeout, Repeated: j.Repeated,
	})
}

func decodeJob(id uint64, v []byte) (engine.Job, error) {
	var r jobRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return engine.Job{}, fmt.Errorf("decode job %d: %w", id, err)
	}
	return engine.Job{
		ID: id, Lane: r.Lane, Command: r.Command.command(), Params: r.Params,
		Fields: engine.Fields(r.Fields), Timeout: r.Timeout, Repeated: r.Repeated,
	}, nil
}

func encodePosition(p engine.Position) ([]byte, error) {
	return json.Marshal(positionRecord{FileID: p.FileID, Offset: p.Offset})
}

func decodePosition(source string, v []byte) (engine.Position, error) {
	var r positionRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return engine.Position{}, fmt.Errorf("decode position %q: %w", source, err)
	}
	return engine.Position{Source: source, FileID: r.FileID, Offset: r.Offset}, nil
}

func commandToRecord(c engine.Command) commandRecord {
	return commandRecord{
		Name: c.Name, Executable: c.Executable, ExtraArgs: c.ExtraArgs,
		TimeoutAllowed: c.TimeoutAllowed, Protocol: int(c.Protocol), Line: c.Line,
	}
}

func (r commandRecord) command() engine.Command {
	return engine.Command{
		Name: r.Name, Executable: r.Executable, ExtraArgs: r.ExtraArgs,
		TimeoutAllowed: r.TimeoutAllowed, Protocol: engine.Protocol(r.Protocol), Line: r.Line,
	}
}

// expiryNanos is the sort position of an expiry time: unix nanoseconds,
// clamped to [0, MaxInt64] so that the zero time and anything before 1970
// sort first and the big-endian bytes order like the times.
func expiryNanos(t time.Time) uint64 {
	if t.IsZero() || t.Unix() < 0 {
		return 0
	}
	if t.Unix() >= math.MaxInt64/int64(time.Second) {
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// expiryKey is the expiry index key of an entry: 8 bytes of expiryNanos,
// big-endian, then the entry key.
func expiryKey(expires time.Time, key string) []byte {
	b := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(b, expiryNanos(expires))
	return append(b, key...)
}

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func btoi(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("want 8 bytes, have %d", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}
