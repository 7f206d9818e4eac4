package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// This file keeps schema 1's entry encoding and Load (encoding/json records,
// base64 Params, RFC 3339 times, one index lookup per entry) for the
// benchmarks only, so that the old and the new Load are timed side by side
// on the same entries in the same run. Its records carry Job too (which
// schema 1 did not have), so that both load the same entries.

type schema1Entry struct {
	Seq     uint64 `json:"seq"`
	Lane    string `json:"lane"`
	Command struct {
		Name           string   `json:"name"`
		Executable     string   `json:"executable"`
		ExtraArgs      []string `json:"extra_args,omitempty"`
		TimeoutAllowed bool     `json:"timeout_allowed,omitempty"`
		Protocol       int      `json:"protocol"`
		Line           int      `json:"line,omitempty"`
	} `json:"command"`
	Params   []byte        `json:"params,omitempty"`
	Fields   engine.Fields `json:"fields"` // same JSON as schema 1's fieldsRecord but for the names
	Created  time.Time     `json:"created"`
	Expires  time.Time     `json:"expires"`
	Offences int           `json:"offences,omitempty"`
	Job      uint64        `json:"job,omitempty"`
}

func schema1Encode(e engine.Entry) ([]byte, error) {
	r := schema1Entry{Seq: e.Seq, Lane: e.Lane, Params: e.Params, Fields: e.Fields,
		Created: e.Created.UTC(), Expires: e.Expires.UTC(), Offences: e.Offences, Job: e.Job}
	c := &r.Command
	c.Name, c.Executable, c.ExtraArgs = e.Command.Name, e.Command.Executable, e.Command.ExtraArgs
	c.TimeoutAllowed, c.Protocol, c.Line = e.Command.TimeoutAllowed, int(e.Command.Protocol), e.Command.Line
	return json.Marshal(r)
}

func schema1Decode(key string, v []byte) (engine.Entry, error) {
	var r schema1Entry
	if err := json.Unmarshal(v, &r); err != nil {
		return engine.Entry{}, fmt.Errorf("decode entry %q: %w", key, err)
	}
	c := engine.Command{Name: r.Command.Name, Executable: r.Command.Executable, ExtraArgs: r.Command.ExtraArgs,
		TimeoutAllowed: r.Command.TimeoutAllowed, Protocol: engine.Protocol(r.Command.Protocol), Line: r.Command.Line}
	return engine.Entry{Key: key, Seq: r.Seq, Lane: r.Lane, Command: &c, Params: r.Params, Fields: r.Fields,
		Created: r.Created, Expires: r.Expires, Offences: r.Offences, Job: r.Job}, nil
}

// schema1 is schema 1's file: its two entry buckets, opened as bbolt
// opened it then (no MAP_POPULATE).
var schema1 = loadSchema{
	name: "schema1-json",
	write: func(b *testing.B, path string, entries []engine.Entry) {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error { return schema1Put(tx, entries) }); err != nil {
			b.Fatal(err)
		}
	},
	open: func(b *testing.B, path string) (func() ([]engine.Entry, error), func()) {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		return func() ([]engine.Entry, error) { return schema1Load(db) }, func() { db.Close() }
	},
}

func schema1Put(tx *bolt.Tx, entries []engine.Entry) error {
	eb, err := tx.CreateBucketIfNotExists(bucketEntries)
	if err != nil {
		return err
	}
	xb, err := tx.CreateBucketIfNotExists(bucketExpiry)
	if err != nil {
		return err
	}
	for _, e := range entries {
		v, err := schema1Encode(e)
		if err != nil {
			return err
		}
		if err := eb.Put([]byte(e.Key), v); err != nil {
			return err
		}
		if err := xb.Put(expiryKey(e.Expires, e.Key), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// schema1Load is schema 1's loadEntries: walk the expiry index, look each
// entry up, decode its JSON.
func schema1Load(db *bolt.DB) (out []engine.Entry, err error) {
	err = db.View(func(tx *bolt.Tx) error {
		entries, expiry := tx.Bucket(bucketEntries), tx.Bucket(bucketExpiry)
		out = make([]engine.Entry, 0, entries.Stats().KeyN)
		c := expiry.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			key := string(k[8:])
			v := entries.Get(k[8:])
			if v == nil {
				return fmt.Errorf("expiry index names missing entry %q", key)
			}
			e, err := schema1Decode(key, v)
			if err != nil {
				return err
			}
			if !bytes.Equal(k, expiryKey(e.Expires, key)) {
				return fmt.Errorf("expiry index key %x does not match entry %q", k[:8], key)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
