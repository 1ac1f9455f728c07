package proxycache

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

func sampleEntry(key string, body int) *Entry {
	e := &Entry{Key: key, URL: "http://example.com/" + key, Status: 200,
		Header:      http.Header{"Content-Type": {"text/plain"}, "X-Multi": {"a", "b"}},
		Body:        bytes.Repeat([]byte("z"), body),
		RequestTime: time.Unix(0, 1700000000123456789), ResponseTime: time.Unix(0, 1700000000223456789),
		InitialAge: 3 * time.Second, Lifetime: time.Minute, VaryNames: []string{"Accept"}, VaryValues: []string{"x"},
		NoCache: true, NoCacheFields: []string{"X-A"}, MustRevalidate: true, AuthOK: true, SWR: -1, SIE: 5 * time.Second}
	e.computeSize()
	return e
}

func TestCodecRoundTrip(t *testing.T) {
	in := []*Entry{sampleEntry("k", 100), sampleEntry("k", 0)}
	in[1].VaryValues = []string{"y"}
	in[1].Body = nil
	out, err := decodeVariants(encodeVariants(in))
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !reflect.DeepEqual(in[i], out[i]) {
			t.Errorf("variant %d:\n in %+v\nout %+v", i, in[i], out[i])
		}
	}
	blob := encodeVariants(in)
	for _, cut := range []int{0, 3, 10, len(blob) / 2, len(blob) - 1} {
		if _, err := decodeVariants(blob[:cut]); err == nil {
			t.Errorf("truncated at %d: decoded", cut)
		}
	}
	blob[len(blob)/2] ^= 0xff
	if _, err := decodeVariants(blob); err == nil {
		t.Error("corrupted blob decoded")
	}
}

func FuzzDecodeVariants(f *testing.F) {
	f.Add(encodeVariants([]*Entry{sampleEntry("k", 10)}))
	f.Add(encodeVariants(nil))
	f.Add([]byte("FDPC1"))
	f.Add([]byte("FDPC1\xff\xff\xff\xff\xff\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		vs, err := decodeVariants(blob)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes' meaning.
		again, err := decodeVariants(encodeVariants(vs))
		if err != nil || len(again) != len(vs) {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

// FuzzDecodeUnchecked skips the CRC, to exercise the decoder itself.
func FuzzDecodeUnchecked(f *testing.F) {
	blob := encodeVariants([]*Entry{sampleEntry("k", 10)})
	f.Add(blob[len(codecMagic) : len(blob)-4])
	f.Add([]byte{1, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &decoder{b: b}
		n := d.count()
		for i := 0; i < n && d.err == nil; i++ {
			d.entry()
		}
	})
}

func newDisk(t *testing.T, dir string, max int64) (*DiskStorage, context.CancelFunc) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	s := &DiskStorage{Path: dir, MaxSize: max}
	if err := s.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	return s, func() { s.Cleanup(); cancel() }
}

func TestDiskSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, stop := newDisk(t, dir, 0)
	e := sampleEntry("key-1", 1000)
	if err := s.Put(e); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.Get("key-1"); len(vs) != 1 || !bytes.Equal(vs[0].Body, e.Body) {
		t.Fatalf("get: %v", vs)
	}
	stop() // last reference: the store is gone, the files stay

	// A torn write (left in tmp/) and a corrupt file are not served.
	os.WriteFile(filepath.Join(dir, "tmp", "w-123"), []byte("FDPC1 half"), 0o600)
	s2, stop2 := newDisk(t, dir, 0)
	defer stop2()
	if s2.store == s.store {
		t.Fatal("not a new store")
	}
	vs, err := s2.Get("key-1")
	if err != nil || len(vs) != 1 || !bytes.Equal(vs[0].Body, e.Body) || vs[0].URL != e.URL {
		t.Fatalf("after restart: %v %v", vs, err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if n, _ := s2.PurgeURL(e.URL); n != 1 {
		t.Errorf("purge by URL after restart: %d", n)
	}
	if vs, _ := s2.Get("key-1"); vs != nil {
		t.Error("purged entry still there")
	}
	// Corrupt a stored file: it is dropped, not served.
	s2.Put(sampleEntry("key-2", 10))
	file := s2.store.fileFor("key-2")
	b, _ := os.ReadFile(file)
	b[len(b)/2] ^= 0xff
	os.WriteFile(file, b, 0o600)
	if vs, _ := s2.Get("key-2"); vs != nil {
		t.Error("corrupt entry served")
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("corrupt file kept")
	}
}

func TestDiskBounded(t *testing.T) {
	dir := t.TempDir()
	s, stop := newDisk(t, dir, 20<<10)
	defer stop()
	for i := range 60 { // 3× max_size
		if err := s.Put(sampleEntry(fmt.Sprint("k", i), 1000)); err != nil {
			t.Fatal(err)
		}
	}
	keys, size := s.Stats()
	if size > 20<<10 || keys == 0 {
		t.Errorf("%d keys, %d bytes (max %d)", keys, size, 20<<10)
	}
	if onDisk := bytesIn(t, dir); onDisk != size {
		t.Errorf("files hold %d bytes, index says %d", onDisk, size)
	}
	if vs, _ := s.Get("k0"); vs != nil {
		t.Error("oldest entry not evicted")
	}
	if err := s.Put(sampleEntry("huge", 30<<10)); err != ErrTooLarge {
		t.Errorf("huge: %v", err)
	}
}

func TestDiskThroughHandler(t *testing.T) {
	dir := t.TempDir()
	h := newHandler(t, `{"storage":{"module":"disk","path":`+jsonString(dir)+`}}`)
	o := respond(200, "from disk", "Cache-Control", "max-age=60", "Vary", "Accept")
	send(t, h, o, "GET", "/d", "Accept: a")
	send(t, h, o, "GET", "/d", "Accept: b")
	for _, a := range []string{"a", "b"} {
		w := send(t, h, o, "GET", "/d", "Accept: "+a)
		expectStatus(t, w, labelHit)
		if w.Body.String() != "from disk" {
			t.Errorf("body %q", w.Body.String())
		}
	}
	if o.n.Load() != 2 {
		t.Errorf("origin %d", o.n.Load())
	}
}

func TestDiskUnwritable(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	s := &DiskStorage{Path: "/etc/passwd/cache"}
	if err := s.Provision(ctx); err == nil {
		t.Fatal("a path under a file was accepted")
	}
}
