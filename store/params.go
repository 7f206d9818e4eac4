package store

import (
	"bytes"
	"compress/flate"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Params live in their own bucket, apart from the small entry records that
// Load walks, and are read one at a time when a delete needs its alert. A
// stored value is
//
//	u8 format 1, then the Params as given, or
//	u8 format 2, uvarint length of the Params, then a raw DEFLATE stream
//	(RFC 1951) of them, primed with the preset dictionary params.dict
//
// whichever is shorter. Any DEFLATE stream is a valid format 2 value:
// compress/flate reads them, and values written by earlier builds (with
// flate.Writer at level 6) read the same; deflate.go writes them now. A
// realistic alert of 1.8 KB takes about 250 bytes (see BenchmarkParams and
// the package doc).
const (
	paramsRaw   = 1
	paramsFlate = 2
)

// paramsDict is the preset dictionary of format 2: fragments of Wazuh
// alerts (the structure of alerts.json, frequent keys and values), written
// for this store, with the likeliest last, where DEFLATE reaches them with
// the shortest distances. It is part of the file format: any change to it
// needs a new format number, with this one kept to read old values.
//
//go:embed params.dict
var paramsDict []byte

// maxInflate bounds what a DEFLATE stream may expand to (258 bytes from
// every 2 bits at best), so that a corrupt length cannot make decodeParams
// allocate beyond what the stored value could hold.
const maxInflate = 1032

// flateReaders read format 2; deflate.go writes it.
var flateReaders = sync.Pool{New: func() any { return flate.NewReaderDict(nil, paramsDict) }}

// Params returns the Params stored for the entry key, in fresh memory: nil
// when the key has none. It reads one value, so that the engine need not
// keep the alerts of its entries in memory until their delete.
func (db *DB) Params(key string) ([]byte, error) {
	if db.closed.Load() {
		return nil, fmt.Errorf("params of %q: %w", key, ErrClosed)
	}
	var p []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		k := []byte(key)
		v := tx.Bucket(bucketParams).Get(k)
		if v == nil {
			return nil
		}
		var err error
		p, err = decodeParams(k, v) // copies out of the transaction
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", db.path, boltError(err))
	}
	return p, nil
}

// encodeParams returns the stored value for p, which must not be empty.
func encodeParams(p []byte) []byte {
	v := make([]byte, 0, len(p)/4+16)
	v = append(v, paramsFlate)
	v = binary.AppendUvarint(v, uint64(len(p)))
	v = deflateDict(v, p)
	if len(v) >= 1+len(p) {
		return append([]byte{paramsRaw}, p...)
	}
	return v
}

// decodeParams returns the Params of the stored value v of key, in fresh
// memory.
func decodeParams(key, v []byte) ([]byte, error) {
	p, err := inflateParams(v)
	if err != nil {
		return nil, fmt.Errorf("decode params of %q: %w", key, err)
	}
	return p, nil
}

func inflateParams(v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, errShort
	}
	switch v[0] {
	case paramsRaw:
		return append([]byte(nil), v[1:]...), nil
	case paramsFlate:
	default:
		return nil, fmt.Errorf("params format %d, want %d or %d", v[0], paramsRaw, paramsFlate)
	}
	n, k := binary.Uvarint(v[1:])
	if k <= 0 {
		return nil, fmt.Errorf("at byte 1: bad uvarint")
	}
	stream := v[1+k:]
	if n > uint64(len(stream))*maxInflate {
		return nil, fmt.Errorf("length %d exceeds what %d bytes inflate to", n, len(stream))
	}
	return inflate(stream, int(n))
}

// inflate expands stream, which must hold exactly n bytes and end there.
func inflate(stream []byte, n int) ([]byte, error) {
	r := flateReaders.Get().(io.ReadCloser)
	defer flateReaders.Put(r)
	br := bytes.NewReader(stream)
	if err := r.(flate.Resetter).Reset(br, paramsDict); err != nil {
		return nil, err
	}
	p := make([]byte, n+1) // one more, to see a stream longer than its length
	got, err := 0, error(nil)
	for err == nil && got < len(p) {
		var k int
		k, err = r.Read(p[got:])
		got += k
	}
	switch {
	case err == nil:
		return nil, fmt.Errorf("inflates to more than its length %d", n)
	case err != io.EOF: // a truncated stream is io.ErrUnexpectedEOF
		return nil, fmt.Errorf("inflate: %w", err)
	case got != n:
		return nil, fmt.Errorf("inflates to %d bytes, want %d", got, n)
	case br.Len() != 0:
		return nil, fmt.Errorf("%d bytes after the stream", br.Len())
	}
	return p[:n:n], nil
}
