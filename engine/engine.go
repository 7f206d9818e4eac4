// Package engine is ThreatLockDown's domain: the active-response configuration,
// alerts, matching, the table of active responses, revert timers and dispatch.
//
// The model follows Wazuh 4.x's wazuh-execd. An alert that matches an
// <active-response> block starts its command with an "add" message. A command
// that answers with check_keys names the keys of what it is about to do; the
// table key is the executable's base name plus those keys. A key already in the
// table gets "abort" and its revert timer restarts; a new key with a timeout gets
// "continue" and a revert entry. When the entry expires the command runs again
// with "delete".
//
// Crash safety: every state change is written through Store before it takes
// effect outside the process. A matched alert becomes a durable Job (together
// with the alerts-file position just past it) before its command starts; a table
// entry is durable before the command hears "continue"; an entry leaves the store
// only after its delete ran. A crash anywhere therefore repeats at most one
// idempotent step and never loses a revert or an alert.
//
// The engine makes no OS calls: it reaches the world through Store, Runner and
// the clock in Options, which tests replace with fakes.
package engine

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Position is where reading of one alerts file stands.
type Position struct {
	Source string // the alerts file as configured (path)
	FileID string // identity of the file read (device:inode on Unix)
	Offset int64  // byte offset just past the last handled record
}

// Record is one complete alert record read from an alerts file: a JSON line of
// alerts.json (without its newline) or one block of the text alerts.log.
type Record struct {
	Data   []byte
	Format Format
	Pos    Position // position just past this record
}

// Format is the format of an alerts file.
type Format int

const (
	FormatJSON Format = iota // alerts.json, one object a line
	FormatText               // alerts.log, blocks separated by an empty line
)

// Protocol is how a command is told what to do.
type Protocol int

const (
	// ProtocolJSON is Wazuh >= 4.2's: one JSON message on stdin, check_keys handshake.
	ProtocolJSON Protocol = iota
	// ProtocolLegacy is Wazuh < 4.2's (and OSSEC's): argv
	// "add|delete user srcip alertid ruleid location filename [extra args]", no stdin.
	ProtocolLegacy
)

func (p Protocol) String() string {
	if p == ProtocolLegacy {
		return "legacy"
	}
	return "json"
}

// Command is one <command> block.
type Command struct {
	Name           string
	Executable     string // base name of a file in active-response/bin
	ExtraArgs      []string
	TimeoutAllowed bool
	// Expect lists the alert fields the legacy protocol passes on argv
	// ("srcip", "user"), from the deprecated <expect>; nil when absent.
	Expect   []string
	Protocol Protocol
	Line     int // line of <command> in the config file, 0 if unknown
}

// Location says on which host a response runs.
type Location int

const (
	LocationLocal        Location = iota // where the alert was generated
	LocationServer                       // on the server (here, always)
	LocationDefinedAgent                 // on the agent named by AgentID
	LocationAll                          // everywhere
)

func (l Location) String() string {
	switch l {
	case LocationServer:
		return "server"
	case LocationDefinedAgent:
		return "defined-agent"
	case LocationAll:
		return "all"
	}
	return "local"
}

// Response is one <active-response> block that names a command.
type Response struct {
	Command           *Command // points into Config.Commands
	Disabled          bool
	Location          Location
	AgentID           string        // for LocationDefinedAgent
	Level             int           // minimum rule level; 0 when not set
	RulesID           []string      // rule ids that always trigger
	RulesGroup        []string      // lower-case alternatives, each a substring of the group string
	Timeout           time.Duration // 0: stateless
	RepeatedOffenders []time.Duration
	Line              int
}

// WhiteListEntry is one <white_list> element: an address or network, or,
// for anything else, a lower-case substring pattern on the source IP text
// (Wazuh's behaviour).
type WhiteListEntry struct {
	Prefix  netip.Prefix // valid for an address (as a /32 or /128) or network
	Pattern string       // set when Prefix is not valid
}

// Config is one loaded ossec.conf. It is immutable once handed to the engine.
type Config struct {
	Source    string // file it was read from
	Disabled  bool   // active response disabled globally (<active-response><disabled>yes without a command)
	Commands  []*Command
	Responses []*Response
	WhiteList []WhiteListEntry
}

// HostAddrs knows the addresses of this host's interfaces as they are now
// (they change: DHCP, VPNs, containers). An alert whose source address is
// one of them, or loopback, unspecified, link-local or multicast, runs
// nothing, whatever the white list says: a host must never be told to
// block itself. Own is called on the hot path and must not block.
type HostAddrs interface {
	Own(addr netip.Addr) bool
}

// Op is what a command is asked to do.
type Op string

const (
	OpAdd    Op = "add"
	OpDelete Op = "delete"
)

// Fields are the alert values the legacy protocol passes on argv, already
// validated ("-" for missing).
type Fields struct {
	User, SrcIP, AlertID, RuleID, Location, Filename string
}

// Invocation is one run of a command.
type Invocation struct {
	Command Command
	Op      Op
	Message []byte // the whole JSON message for stdin, without newline
	Fields  Fields
	Target  Target // Fields.Target(): what the command acts upon
}

// Verdict answers a check_keys request.
type Verdict int

const (
	Continue Verdict = iota
	Abort
)

func (v Verdict) String() string {
	if v == Abort {
		return "abort"
	}
	return "continue"
}

// Decision is the engine's answer to check_keys.
type Decision struct {
	Verdict Verdict
	// Expires is when the entry will be reverted; zero for a stateless run.
	// Built-in actions use it to set a kernel-side timeout as a safety net.
	Expires time.Time
}

// CheckKeys decides a check_keys request of a running add. It returns only once
// the decision is durable.
type CheckKeys func(keys []string) (Decision, error)

// Runner runs commands. Run starts inv.Command, delivers inv.Message and, for
// an add whose command sends check_keys, calls check and passes its verdict
// back. A command that never asks is stateless. Run returns when the command
// has ended (or was killed at its time limit). An error that wraps
// ErrNotStarted means the command never ran.
type Runner interface {
	Run(ctx context.Context, inv Invocation, check CheckKeys) error
}

// Reasserter is a Runner that can re-apply many entries at once, as built-in
// firewalls do in batches. The engine uses it after a reboot; entries it
// returns in rest are re-applied one run at a time.
type Reasserter interface {
	Reassert(ctx context.Context, entries []Entry) (rest []Entry, err error)
}

// Preparer is a Runner whose built-ins set part of the OS up at their
// first use (firewall-drop on nftables: its table, sets and chains, one
// transaction of a few milliseconds). Prepare does it ahead, for the
// commands of the configured responses, so that the first block after a
// start costs what every other one does. It is cheap once done: the engine
// calls it at each drift check, which also covers commands a reload added.
type Preparer interface {
	Prepare(ctx context.Context, cmds []Command) error
}

// Grouper is a Runner that can take the check_keys decisions of some
// commands itself, in the group commit of the alerts that trigger them, and
// apply their adds in batches: built-in actions whose keys come from the
// alert. A storm of distinct attackers then costs one store commit and one
// batch per group, not one of each per address.
type Grouper interface {
	// Group returns the batch form of command c, or nil when c runs one job
	// at a time (a script, or a built-in that cannot batch).
	Group(c Command) Group
}

// Group applies the adds of one command in batches.
type Group interface {
	// Keys returns the check_keys keys the command would send for an alert
	// with fields f. An error sends the alert down the one-job path, where the
	// command reports it as it always does.
	Keys(f Fields) ([]string, error)
	// KernelTimeout reports whether the command's blocks carry a kernel-side
	// timeout (nftables elements do). Such blocks are applied before their
	// entries are durable: a crash in between leaves a block that lifts
	// itself and an alert that is read again. Others are applied after the
	// commit that marks them (Change.Mark), and unmarked once applied.
	KernelTimeout() bool
	// Apply carries out decisions: adds on Continue, a kernel timeout moved
	// to Decision.Expires on Abort. It returns, when not nil, the writing
	// of the command's active-responses.log lines for each, as the command
	// run alone would write them, for the engine to start once the group
	// is committed: in a storm, the lines (kilobytes a block) wait until
	// the blocks are in.
	Apply(ctx context.Context, adds []GroupAdd) (logs func(), err error)
}

// GroupAdd is one decided add of a group.
type GroupAdd struct {
	// The add message the command would have been sent is Head, Params,
	// then "}": Head (MessageHead) is shared by a group's adds.
	Head     []byte
	Params   []byte
	Keys     []string
	Fields   Fields
	Decision Decision
}

// Entry is one active response in the table: something to revert.
type Entry struct {
	Key  string // executable base name + "-" + keys
	Seq  uint64 // generation: a newer entry for the same key has a higher Seq
	Lane string // dispatch lane; add and delete of one lane run in order
	// Command is shared with the configuration it came from and with the
	// other entries of that command: it is never changed in place.
	Command  *Command
	Params   []byte // the JSON "parameters" object of the first add
	Fields   Fields
	Created  time.Time
	Expires  time.Time
	Offences int
	// Job is the job whose "continue" created this generation, 0 when the
	// decision was taken in a group commit (see Change.Mark). A job that
	// runs again after a crash and finds its own id here gets the same
	// decision again instead of an abort.
	Job uint64
}

// Job is a matched alert's pending add: durable from the moment the alert is
// handled until its command has run (or its entry is durable).
type Job struct {
	ID       uint64
	Lane     string
	Command  *Command // shared, as Entry.Command is
	Params   []byte
	Fields   Fields
	Timeout  time.Duration
	Repeated []time.Duration
}

// EntryRef names one generation of an entry.
type EntryRef struct {
	Key string
	Seq uint64
}

// Change is one atomic group of writes to the store.
type Change struct {
	// Put writes entries. An entry's Params are written when not nil; a Put
	// with nil Params keeps those stored for the key (a timer restart).
	Put []Entry
	Del []EntryRef // removed, with their Params and mark, only when the stored Seq matches
	// Mark records entries whose add was decided but may not be applied yet
	// (decided in a group commit, applied in a batch right after). Unmark
	// removes a mark once applied, only when its Seq matches.
	Mark      []EntryRef
	Unmark    []EntryRef
	Jobs      []Job
	DoneJobs  []uint64
	Offences  map[string]int // offence counts by table key
	Positions []Position
	BootID    string // recorded when not empty
	// History is what happened to targets, for explain (see history.go).
	History []HistoryEvent
	// HistoryGap is the latest time (the engine's clock) at which history
	// events were dropped since the commit before: more came than the store
	// took. Zero when none were. A store that keeps history keeps the
	// latest, so that explain can say, after a restart too, that the
	// history may lack some events.
	HistoryGap time.Time
}

// State is everything the store holds, read once at start.
type State struct {
	Entries   []Entry // without their Params: see Store.Params
	Marked    []EntryRef
	Jobs      []Job
	Offences  map[string]int
	Positions map[string]Position // by Source
	BootID    string
}

// Store keeps the engine's state durable.
type Store interface {
	// Load reads the whole state, entries without their Params.
	Load() (*State, error)
	// Params returns the Params stored for the entry key (nil when none).
	// The alert a delete message carries is read from disk only when needed.
	Params(key string) ([]byte, error)
	// Apply writes c atomically and durably. Concurrent calls may share one
	// commit (one fsync); Apply returns only when c is on disk.
	Apply(c Change) error
	Close() error
}

// Errors.
var (
	// ErrNotStarted wraps a Runner error for a command that could not be started
	// (missing or not executable, refused name).
	ErrNotStarted = errors.New("command not started")
)
