package healthgate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func TestUnmarshalUnavailable(t *testing.T) {
	for body, want := range map[string]Unavailable{
		"unavailable 502":                   {Status: 502},
		"unavailable 503":                   {Status: 503},
		"unavailable 503 retry_after 5s":    {Status: 503, RetryAfter: caddy.Duration(5 * time.Second)},
		"unavailable 503 retry_after 1m30s": {Status: 503, RetryAfter: caddy.Duration(90 * time.Second)},
	} {
		var s Source
		if err := s.UnmarshalCaddyfile(caddyfile.NewTestDispenser("healthgate web {\nto 127.0.0.1:80\n" + body + "\n}")); err != nil {
			t.Errorf("%q: %v", body, err)
			continue
		}
		if s.Unavailable == nil || *s.Unavailable != want {
			t.Errorf("%q: parsed %+v, want %+v", body, s.Unavailable, want)
		}
		if _, err := s.compile(); err != nil {
			t.Errorf("%q: compile: %v", body, err)
		}
	}
}

func TestUnmarshalUnavailableErrors(t *testing.T) {
	cases := map[string]string{
		"unavailable":                     "unavailable: want 502 or 503",
		"unavailable 504":                 `unavailable: status must be 502 or 503, got "504"`,
		"unavailable 5xx":                 `unavailable: status must be 502 or 503, got "5xx"`,
		"unavailable 502 retry_after 5s":  "unavailable: retry_after needs status 503",
		"unavailable 503 retry_after":     "unavailable: retry_after wants exactly one duration",
		"unavailable 503 retry_after 5 6": "unavailable: retry_after wants exactly one duration",
		"unavailable 503 retry_after 5x":  `unavailable: retry_after: bad duration "5x"`,
		"unavailable 503 retry_after 0s":  `unavailable: retry_after must be positive, got "0s"`,
		"unavailable 503 retry_after -1s": `unavailable: retry_after must be positive, got "-1s"`,
		"unavailable 503 retry-after 5s":  `unavailable: unexpected "retry-after"`,
		"unavailable 503 5s":              `unavailable: unexpected "5s"`,
	}
	for body, want := range cases {
		var s Source
		err := s.UnmarshalCaddyfile(caddyfile.NewTestDispenser("healthgate web {\nto 127.0.0.1:80\n" + body + "\n}"))
		if err == nil {
			t.Errorf("%q: accepted", body)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Testfile:3") || !strings.HasPrefix(err.Error(), "healthgate: ") {
			t.Errorf("%q: error %q, want it to contain %q and Testfile:3", body, err, want)
		}
	}
}

func TestUnavailableJSONValidation(t *testing.T) {
	for _, c := range []struct {
		u    Unavailable
		want string
	}{
		{Unavailable{Status: 500}, "status must be 502 or 503"},
		{Unavailable{Status: 502, RetryAfter: caddy.Duration(time.Second)}, "retry_after needs status 503"},
		{Unavailable{RetryAfter: caddy.Duration(time.Second)}, "retry_after needs status 503"},
		{Unavailable{Status: 503, RetryAfter: -1}, "retry_after must be positive"},
	} {
		s := source("json", Member{Dial: "127.0.0.1:1"})
		s.Unavailable = &c.u
		if _, err := s.compile(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.u, err, c.want)
		}
	}
	if got := (&Unavailable{Status: 503, RetryAfter: caddy.Duration(1500 * time.Millisecond)}).retryAfterSeconds(); got != 2 {
		t.Errorf("retry_after 1.5s: %d seconds, want 2 (rounded up)", got)
	}
}

// unavailableSource is a pool whose only upstream is down (its checks get
// connection refused), answering 503.
func unavailableSource(t *testing.T, pool string, retryAfter time.Duration) *Source {
	t.Helper()
	s := source(pool, Member{Dial: "127.0.0.1:1"})
	s.Unavailable = &Unavailable{Status: 503, RetryAfter: caddy.Duration(retryAfter)}
	return provision(t, s)
}

func sentinelOf(t *testing.T, s *Source) string {
	t.Helper()
	d := dials(t, s)
	if len(d) != 1 || !strings.HasPrefix(d[0], "127.0.0.1:") {
		t.Fatalf("with nothing serving: got %v, want the loopback responder", d)
	}
	return d[0]
}

func TestResponderAnswers503(t *testing.T) {
	s := unavailableSource(t, t.Name(), 1500*time.Millisecond)
	defer s.Cleanup()
	addr := sentinelOf(t, s)
	ups, _ := s.GetUpstreams(nil)
	if ups[0].MaxRequests <= 1<<30 {
		t.Errorf("sentinel MaxRequests %d: unhealthy_request_count could mark it full", ups[0].MaxRequests)
	}

	check := func(resp *http.Response, err error, method string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" || resp.Header.Get("Cache-Control") != "no-store" ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v", method, resp.StatusCode, resp.Header)
		}
		if method == "HEAD" {
			if len(b) != 0 {
				t.Errorf("HEAD has a body: %q", b)
			}
			return
		}
		var body unavailableBody
		if err := json.Unmarshal(b, &body); err != nil || body.Pool != t.Name() || body.RetryAfter != 2 || body.Error != "no healthy upstream" {
			t.Errorf("%s body %q (%v)", method, b, err)
		}
	}
	c := &http.Client{Timeout: 2 * time.Second}
	for _, path := range []string{"/", "//odd/../path?q=1", "/api/hello"} {
		resp, err := c.Get("http://" + addr + path)
		check(resp, err, "GET "+path)
	}
	req, _ := http.NewRequest("HEAD", "http://"+addr+"/", nil)
	resp, err := c.Do(req)
	check(resp, err, "HEAD")
	req, _ = http.NewRequest("OPTIONS", "http://"+addr, nil)
	req.URL.Opaque = "*"
	resp, err = c.Do(req)
	check(resp, err, "OPTIONS *")

	// An upload is read before the answer, so the client sees the 503
	// rather than a reset; one beyond drainLimit still gets it.
	for _, size := range []int{1 << 20, drainLimit + 1<<20} {
		start := time.Now()
		resp, err = c.Post("http://"+addr+"/upload", "application/octet-stream", bytes.NewReader(make([]byte, size)))
		check(resp, err, "POST")
		if took := time.Since(start); took > time.Second {
			t.Errorf("POST of %d bytes took %s", size, took)
		}
	}
	// A slow upload is answered after drainTimeout at the latest.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_, _ = conn.Write([]byte("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly the start"))
	_ = conn.SetReadDeadline(time.Now().Add(drainTimeout + 2*time.Second))
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	check(resp, err, "slow POST")
	if took := time.Since(start); took < drainTimeout/2 || took > drainTimeout+time.Second {
		t.Errorf("slow POST answered after %s, want about %s", took, drainTimeout)
	}

	// reverse_proxy's `transport http { versions h2c }` speaks HTTP/2 with
	// prior knowledge.
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Protocols: p}}
	resp, err = h2c.Get("http://" + addr + "/")
	if err == nil && resp.ProtoMajor != 2 {
		t.Errorf("h2c request answered over %s", resp.Proto)
	}
	check(resp, err, "GET over h2c")
	h2c.CloseIdleConnections()
	c.CloseIdleConnections()
}

func TestResponderWithoutRetryAfter(t *testing.T) {
	s := unavailableSource(t, t.Name(), 0)
	defer s.Cleanup()
	resp, err := http.Get("http://" + sentinelOf(t, s) + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "" || strings.Contains(string(b), "retry_after") {
		t.Errorf("%d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}

// TestResponderDefault502: without the option the sentinel is the
// undialable port range, and no responder is started.
func TestResponderDefault502(t *testing.T) {
	for _, u := range []*Unavailable{nil, {}, {Status: 502}} {
		s := source(t.Name(), Member{Dial: "127.0.0.1:1"})
		s.Unavailable = u
		provision(t, s)
		if d := dials(t, s); len(d) != 1 || d[0] != "no-healthy-upstream-in-pool-TestResponderDefault502:0-1" || s.responder != nil {
			t.Errorf("%+v: got %v", u, d)
		}
		s.Cleanup()
	}
}

// TestResponderServesOnlyWhileAllDown: once an upstream serves, it is
// handed out instead of the responder.
func TestResponderServesOnlyWhileAllDown(t *testing.T) {
	b := newBackend(t, true)
	src := source(t.Name(), Member{Dial: b.addr()})
	src.Unavailable = &Unavailable{Status: 503}
	s := provision(t, src)
	defer s.Cleanup()
	waitFor(t, "up", s.members[0].st.serving.Load)
	if d := dials(t, s); len(d) != 1 || d[0] != b.addr() {
		t.Fatalf("got %v, want %s", d, b.addr())
	}
}

// TestResponderLifecycle: configs of one pool with the same Retry-After
// share one responder; a reload (new config provisioned before the old
// one is cleaned up) keeps it and its port; a changed Retry-After gets
// its own; the last config gone closes the listener, and no goroutine is
// left behind, even with keep-alive connections open to it.
func TestResponderLifecycle(t *testing.T) {
	runtime.GC()
	baseline := runtime.NumGoroutine()

	a := unavailableSource(t, t.Name(), 5*time.Second)
	addr := sentinelOf(t, a)
	client := &http.Client{Timeout: 2 * time.Second}
	get := func(addr string) (int, error) {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	cur := a
	for i := range 10 {
		next := unavailableSource(t, t.Name(), 5*time.Second)
		if got := sentinelOf(t, next); got != addr {
			t.Fatalf("reload %d: responder moved from %s to %s", i, addr, got)
		}
		if code, err := get(addr); code != 503 {
			t.Fatalf("reload %d: %d %v", i, code, err)
		}
		cur.Cleanup()
		cur = next
	}
	other := unavailableSource(t, t.Name(), 10*time.Second)
	otherAddr := sentinelOf(t, other)
	if otherAddr == addr {
		t.Errorf("a different retry_after shares the responder")
	}
	if code, _ := get(otherAddr); code != 503 {
		t.Errorf("second responder: %d", code)
	}
	// The keep-alive connections to both stay open in client; closing
	// the responders must close them.
	cur.Cleanup()
	other.Cleanup()
	for _, ad := range []string{addr, otherAddr} {
		if c, err := net.DialTimeout("tcp", ad, time.Second); err == nil {
			c.Close()
			t.Errorf("responder %s still listening after the last config went away", ad)
		}
	}
	left := 0
	responders.Range(func(k, _ any) bool {
		if k.(responderKey).pool == t.Name() {
			left++
		}
		return true
	})
	if left != 0 {
		t.Errorf("%d responders left in the pool", left)
	}
	waitFor(t, "goroutines back to baseline", func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}

func TestCheckProxy(t *testing.T) {
	ok := []*reverseproxy.Handler{
		nil,
		{},
		{Transport: &reverseproxy.HTTPTransport{Versions: []string{"h2c", "2"}}},
		{HealthChecks: &reverseproxy.HealthChecks{Passive: &reverseproxy.PassiveHealthChecks{
			FailDuration: caddy.Duration(time.Second), UnhealthyStatus: []int{500, 502, 504}}}},
		// unhealthy_status without fail_duration counts nothing.
		{HealthChecks: &reverseproxy.HealthChecks{Passive: &reverseproxy.PassiveHealthChecks{UnhealthyStatus: []int{5}}}},
	}
	for i, h := range ok {
		if err := checkProxy(h); err != nil {
			t.Errorf("ok %d: %v", i, err)
		}
	}
	bad := map[string]*reverseproxy.Handler{
		"transport tls":    {Transport: &reverseproxy.HTTPTransport{TLS: &reverseproxy.TLSConfig{}}},
		"proxy_protocol":   {Transport: &reverseproxy.HTTPTransport{ProxyProtocol: "v2"}},
		"network_proxy":    {Transport: &reverseproxy.HTTPTransport{ForwardProxyURL: "http://127.0.0.1:3128"}},
		"versions 3":       {Transport: &reverseproxy.HTTPTransport{Versions: []string{"3"}}},
		"http transport":   {Transport: http.DefaultTransport},
		"unhealthy_status": {HealthChecks: &reverseproxy.HealthChecks{Passive: &reverseproxy.PassiveHealthChecks{FailDuration: caddy.Duration(time.Second), UnhealthyStatus: []int{5}}}},
	}
	for want, h := range bad {
		if err := checkProxy(h); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v", want, err)
		}
	}
	// The check runs before anything is started, and names the pool.
	s := source(t.Name(), Member{Dial: "127.0.0.1:1"})
	s.Unavailable = &Unavailable{Status: 503}
	s.proxy = bad["proxy_protocol"]
	err := s.provision(&emitter{}, nil)
	if err == nil || !strings.Contains(err.Error(), "healthgate pool "+t.Name()+": unavailable 503") {
		t.Errorf("provision: %v", err)
	}
	if s.responder != nil || len(s.members) != 0 {
		t.Errorf("provision failed but started things")
	}
}
