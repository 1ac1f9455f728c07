package proxycache

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"net/http"
	"time"
)

// The wire format of stored variants, shared by the disk and redis storages:
//
//	magic "FDPC1" | uvarint variant count | variants... | CRC-32 (IEEE) of all before it
//
// Each variant is a sequence of length-prefixed strings and varints in the
// order of encodeEntry. A torn or corrupted blob fails the CRC and is
// treated as absent.
const codecMagic = "FDPC1"

// errCorrupt is returned for a blob that does not decode.
var errCorrupt = errors.New("proxy_cache: corrupt stored entry")

// maxDecodedItems bounds counts read from a blob, so a corrupt length never
// allocates much.
const maxDecodedItems = 1 << 16

func encodeVariants(variants []*Entry) []byte {
	n := len(codecMagic) + 8
	for _, e := range variants {
		n += int(e.Size()) + 64
	}
	b := make([]byte, 0, n)
	b = append(b, codecMagic...)
	b = binary.AppendUvarint(b, uint64(len(variants)))
	for _, e := range variants {
		b = encodeEntry(b, e)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func encodeEntry(b []byte, e *Entry) []byte {
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	num := func(v int64) { b = binary.AppendVarint(b, v) }
	strs := func(ss []string) {
		b = binary.AppendUvarint(b, uint64(len(ss)))
		for _, s := range ss {
			str(s)
		}
	}
	str(e.Key)
	str(e.URL)
	num(int64(e.Status))
	b = binary.AppendUvarint(b, uint64(len(e.Header)))
	for k, vv := range e.Header {
		str(k)
		strs(vv)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	b = append(b, e.Body...)
	num(e.RequestTime.UnixNano())
	num(e.ResponseTime.UnixNano())
	num(int64(e.InitialAge))
	num(int64(e.Lifetime))
	strs(e.VaryNames)
	strs(e.VaryValues)
	strs(e.NoCacheFields)
	var flags int64
	if e.NoCache {
		flags |= 1
	}
	if e.MustRevalidate {
		flags |= 2
	}
	if e.AuthOK {
		flags |= 4
	}
	num(flags)
	num(int64(e.SWR))
	num(int64(e.SIE))
	return b
}

// decodeVariants parses a blob written by encodeVariants.
func decodeVariants(blob []byte) ([]*Entry, error) {
	if len(blob) < len(codecMagic)+4 || string(blob[:len(codecMagic)]) != codecMagic {
		return nil, errCorrupt
	}
	body, sum := blob[:len(blob)-4], binary.BigEndian.Uint32(blob[len(blob)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errCorrupt
	}
	d := &decoder{b: body[len(codecMagic):]}
	n := d.count()
	var out []*Entry
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.entry())
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }

func (d *decoder) varint() int64 { return readVarint(d, binary.Varint) }

// readVarint reads a number with read (binary.Uvarint or binary.Varint);
// after an error, or at a bad or missing number, it is 0 and d.err is set.
func readVarint[T int64 | uint64](d *decoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) count() int {
	v := d.uvarint()
	if v > maxDecodedItems {
		d.err = errCorrupt
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.bytes()) }

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]string, 0, min(n, 64))
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.str())
	}
	return out
}

func (d *decoder) entry() *Entry {
	e := &Entry{}
	e.Key = d.str()
	e.URL = d.str()
	e.Status = int(d.varint())
	nh := d.count()
	e.Header = make(http.Header, min(nh, 64))
	for i := 0; i < nh && d.err == nil; i++ {
		k := d.str()
		e.Header[k] = d.strs()
	}
	body := d.bytes()
	e.Body = append([]byte(nil), body...)
	e.RequestTime = time.Unix(0, d.varint())
	e.ResponseTime = time.Unix(0, d.varint())
	e.InitialAge = time.Duration(d.varint())
	e.Lifetime = time.Duration(d.varint())
	e.VaryNames = d.strs()
	e.VaryValues = d.strs()
	e.NoCacheFields = d.strs()
	flags := d.varint()
	e.NoCache, e.MustRevalidate, e.AuthOK = flags&1 != 0, flags&2 != 0, flags&4 != 0
	e.SWR = time.Duration(d.varint())
	e.SIE = time.Duration(d.varint())
	if d.err == nil && (len(e.VaryNames) != len(e.VaryValues) || e.Status < 100 || e.Status > 999) {
		d.err = errCorrupt
	}
	if d.err != nil {
		return nil
	}
	e.computeSize()
	return e
}
