package integration

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Raw HTTP/1.1 over sockets, for what Go's client will not send (obs-fold,
// duplicate framing headers, bare LF) and for a backend that records the
// bytes a proxy sends it.

// rawTimeout bounds one raw exchange; generous because the machine is shared.
const rawTimeout = 15 * time.Second

// rawResponse is one response read back from a raw exchange.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawExchange writes raw to a fresh connection to addr, half-closes nothing,
// and reads responses until the server closes the connection (or until
// maxResponses were read). The caller ends raw with a request carrying
// "Connection: close", or expects the server to close after an error.
func rawExchange(t *testing.T, addr, raw string, maxResponses int) []rawResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, rawTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(rawTimeout))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var out []rawResponse
	for len(out) < maxResponses {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("no response from %s within %s (after %d)", addr, rawTimeout, len(out))
			}
			break // closed
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("reading a response body: %v", err)
		}
		out = append(out, rawResponse{status: resp.StatusCode, header: resp.Header, body: string(body)})
		if resp.Close {
			break
		}
	}
	return out
}

// rawBackend is an HTTP/1.1 origin on a raw socket: it records every byte a
// proxy sends it, parses requests strictly (Go's server parser) to answer
// each with 200 "ok", and keeps what it parsed.
type rawBackend struct {
	ln   net.Listener
	mu   sync.Mutex
	raw  bytes.Buffer // every byte received, all connections
	reqs []rawSeen
	errs []string // parse errors: a request the backend could not frame
	// truncated are requests whose body ended with the connection: the
	// proxy gave up on them (the client's body was bad), and the backend
	// never answers them.
	truncated []string
}

// rawSeen is one request the raw backend parsed.
type rawSeen struct {
	method, uri string
	header      http.Header
	chunked     bool // framed by Transfer-Encoding: chunked
	body        string
}

func newRawBackend(t *testing.T) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b
}

func (b *rawBackend) addr() string { return b.ln.Addr().String() }

// recorder appends what the connection reads to the backend's record.
type recorder struct {
	b *rawBackend
	c net.Conn
}

func (r recorder) Read(p []byte) (int, error) {
	n, err := r.c.Read(p)
	r.b.mu.Lock()
	r.b.raw.Write(p[:n])
	r.b.mu.Unlock()
	return n, err
}

func (b *rawBackend) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(recorder{b: b, c: c})
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			if err != io.EOF && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "connection reset") {
				b.mu.Lock()
				b.errs = append(b.errs, err.Error())
				b.mu.Unlock()
			}
			return
		}
		body, err := io.ReadAll(req.Body)
		b.mu.Lock()
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			b.truncated = append(b.truncated, req.RequestURI)
		case err != nil:
			b.errs = append(b.errs, "body of "+req.RequestURI+": "+err.Error())
		default:
			b.reqs = append(b.reqs, rawSeen{method: req.Method, uri: req.RequestURI, header: req.Header,
				chunked: len(req.TransferEncoding) > 0, body: string(body)})
		}
		b.mu.Unlock()
		if err != nil {
			return
		}
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"); err != nil {
			return
		}
	}
}

// rawRecord is what the raw backend has received so far.
type rawRecord struct {
	reqs      []rawSeen
	errs      []string
	truncated []string
	raw       string
}

// since is what was received after the earlier record before.
func (r rawRecord) since(before rawRecord) rawRecord {
	return rawRecord{reqs: r.reqs[len(before.reqs):], errs: r.errs[len(before.errs):],
		truncated: r.truncated[len(before.truncated):], raw: r.raw[len(before.raw):]}
}

// snapshot returns what the backend received so far.
func (b *rawBackend) snapshot() rawRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return rawRecord{reqs: append([]rawSeen(nil), b.reqs...), errs: append([]string(nil), b.errs...),
		truncated: append([]string(nil), b.truncated...), raw: b.raw.String()}
}
