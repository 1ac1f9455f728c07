package integration

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Forwarding-header spoofing against header_policy. A client (untrusted, or
// the trusted proxy 127.0.0.1) sends generated requests as raw bytes:
// duplicated forwarding fields in odd casing, obs-folded lines, Connection
// nominations in every form, malformed Forwarded values. What must hold: the
// backend receives exactly the values the policy promises (README of
// header_policy), whatever the request says.

// hostileHeadersCaddyfile has one site per policy, told apart by host name.
var hostileHeadersCaddyfile = globalBlock("auto_https off") + `
http://nginx.test:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	header_policy nginx
	reverse_proxy {$BACKEND}
}

http://full.test:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	header_policy nginx {
		forwarded
		request_id
	}
	reverse_proxy {$BACKEND}
}

http://trusted.test:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	header_policy nginx {
		trusted_proxies 127.0.0.1/32
		forwarded
		request_id
	}
	reverse_proxy {$BACKEND}
}
`

// startHostileHeaders runs the three sites in front of a recording backend.
func startHostileHeaders(t *testing.T) (addr string, backend *recordingBackend) {
	t.Helper()
	backend = newRecordingBackend(t, "rec")
	path := filepath.Join(t.TempDir(), "hostile-headers.Caddyfile")
	if err := os.WriteFile(path, []byte(hostileHeadersCaddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	_, addr = startCaddyfile(t, path, t.TempDir(), "BACKEND="+backend.addr())
	return addr, backend
}

// spoofLine is one header line a hostile client sends: name as written,
// the value Go's parser will see, and the bytes on the wire.
type spoofLine struct {
	name, value, wire string
}

// spoofRequest is one generated request and the site it goes to.
type spoofRequest struct {
	site  string // nginx, full or trusted
	lines []spoofLine
}

var (
	// Values a client puts in forwarding fields; each pool mixes valid and
	// invalid ones.
	spoofValues = map[string][]string{
		"X-Real-Ip":         {"6.6.6.6", "198.51.100.9", "2001:db8::7", "not-an-ip", "1.2.3.4, 5.6.7.8", "fe80::1%eth0"},
		"X-Forwarded-For":   {"1.2.3.4", "1.2.3.4, 10.0.0.1", "garbage", "[2001:db8::1]:80"},
		"X-Forwarded-Proto": {"https", "http", "HTTPS", "gopher", "https, http"},
		"X-Forwarded-Host":  {"evil.example", "a.b:99", "trusted.test"},
		"X-Request-Id":      {"lb-42", "abc-123", "bad id", `"quoted"`, strings.Repeat("x", 201)},
		"X-Other":           {"kept-unless-nominated"},
	}
	// Forwarded values, valid (true) or not, by RFC 7239's grammar.
	forwardedValues = map[string]bool{
		"for=1.2.3.4":                          true,
		`for="[2001:db8::1]";proto=https`:      true,
		"for=unknown;by=_hidden, for=10.0.0.9": true,
		`for="oops`:                            false,
		"for":                                  false,
		"for=1.2.3.4;for=5.6.7.8":              false,
		"=x":                                   false,
		"for=a b":                              false,
	}
	// Connection tokens: the policy's fields and others.
	connectionTokens = []string{"X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
		"Forwarded", "X-Request-ID", "Host", "X-Other", "keep-alive", "Upgrade"}
	policyOwned = []string{"X-Real-Ip", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "X-Request-Id"}
)

// oddCase writes name in a random mix of cases.
func oddCase(rng *rand.Rand, name string) string {
	b := []byte(name)
	for i := range b {
		if rng.IntN(2) == 0 {
			b[i] = strings.ToUpper(string(b[i]))[0]
		} else {
			b[i] = strings.ToLower(string(b[i]))[0]
		}
	}
	return string(b)
}

// ows is optional whitespace around a value.
func ows(rng *rand.Rand) string { return []string{"", " ", "\t", "  "}[rng.IntN(4)] }

// genSpoof draws one hostile request.
func genSpoof(rng *rand.Rand) spoofRequest {
	req := spoofRequest{site: []string{"nginx", "full", "trusted"}[rng.IntN(3)]}
	fvs := make([]string, 0, len(forwardedValues))
	for v := range forwardedValues {
		fvs = append(fvs, v)
	}
	slices.Sort(fvs)
	fields := append(append([]string{}, policyOwned...), "X-Other")
	for _, f := range fields {
		for range rng.IntN(4) { // 0 to 3 lines: duplicates
			var v string
			if f == "Forwarded" {
				v = fvs[rng.IntN(len(fvs))]
			} else {
				pool := spoofValues[f]
				v = pool[rng.IntN(len(pool))]
			}
			name := oddCase(rng, f)
			line := spoofLine{name: f, value: v, wire: name + ":" + ows(rng) + v + ows(rng) + "\r\n"}
			// obs-fold: the value split over two lines; Go joins them with one
			// space. Not for Forwarded, whose validity the pool states.
			if f != "Forwarded" && rng.IntN(5) == 0 {
				line.value = v + " folded"
				line.wire = name + ": " + v + "\r\n" + []string{" ", "\t"}[rng.IntN(2)] + "folded\r\n"
			}
			req.lines = append(req.lines, line)
		}
	}
	for range rng.IntN(3) { // Connection lines
		var toks []string
		for range 1 + rng.IntN(4) {
			toks = append(toks, ows(rng)+oddCase(rng, connectionTokens[rng.IntN(len(connectionTokens))])+ows(rng))
		}
		if rng.IntN(4) == 0 {
			toks = append(toks, "") // an empty list member
		}
		value := strings.Join(toks, ",")
		wire := "Connection: " + value + "\r\n"
		if rng.IntN(4) == 0 && len(toks) > 1 { // obs-fold after a comma
			value = strings.Join(toks[:1], ",") + ", " + strings.TrimLeft(strings.Join(toks[1:], ","), " \t")
			wire = "Connection: " + toks[0] + ",\r\n " + strings.TrimLeft(strings.Join(toks[1:], ","), " \t") + "\r\n"
		}
		req.lines = append(req.lines, spoofLine{name: "Connection", value: value, wire: wire})
	}
	rng.Shuffle(len(req.lines), func(i, j int) { req.lines[i], req.lines[j] = req.lines[j], req.lines[i] })
	return req
}

// values are the values Go's parser gives field name, in order (it trims
// the OWS around each).
func (s spoofRequest) values(name string) []string {
	var out []string
	for _, l := range s.lines {
		if l.name == name {
			out = append(out, strings.Trim(l.value, " \t"))
		}
	}
	return out
}

// nominated reports whether a Connection line names field (as reverse_proxy
// reads it: comma list, trimmed, case-insensitive).
func (s spoofRequest) nominated(field string) bool {
	for _, v := range s.values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), field) {
				return true
			}
		}
	}
	return false
}

// wire is the raw request for path to host.
func (s spoofRequest) wire(host, path string) string {
	var sb strings.Builder
	sb.WriteString("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: hostile\r\n")
	for _, l := range s.lines {
		sb.WriteString(l.wire)
	}
	sb.WriteString("\r\n")
	return sb.String()
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// want is what the backend must receive for s, field by field (nil: the
// field is absent; a single "uuid" stands for one fresh request ID).
func (s spoofRequest) want(port string) map[string][]string {
	const peer = "127.0.0.1"
	trusted := s.site == "trusted"
	// A nominated field's copy from the sender is dropped (RFC 9110 §7.6.1).
	from := func(name string) []string {
		if s.nominated(name) {
			return nil
		}
		return s.values(name)
	}
	w := map[string][]string{
		"X-Real-Ip":         {peer},
		"X-Forwarded-For":   {peer},
		"X-Forwarded-Proto": {"http"},
		"X-Forwarded-Host":  nil,
		"X-Other":           from("X-Other"),
	}
	ours := `for=127.0.0.1;proto=http;host="` + s.site + `.test:` + port + `"`
	switch s.site {
	case "nginx":
		w["Forwarded"] = nil
		w["X-Request-Id"] = from("X-Request-Id") // not the policy's here
	case "full":
		w["Forwarded"] = []string{ours}
		w["X-Request-Id"] = []string{"uuid"}
	}
	if !trusted {
		return w
	}
	if v := from("X-Real-Ip"); len(v) > 0 {
		if ip, err := netip.ParseAddr(v[len(v)-1]); err == nil && ip.Zone() == "" {
			w["X-Real-Ip"] = []string{v[len(v)-1]}
		}
	}
	if v := strings.Join(from("X-Forwarded-For"), ", "); v != "" {
		w["X-Forwarded-For"] = []string{v + ", " + peer}
	}
	if v := from("X-Forwarded-Proto"); len(v) > 0 && (v[len(v)-1] == "http" || v[len(v)-1] == "https") {
		w["X-Forwarded-Proto"] = []string{v[len(v)-1]}
	}
	w["Forwarded"] = []string{ours}
	if v := from("Forwarded"); len(v) > 0 {
		valid := true
		for _, f := range v {
			valid = valid && forwardedValues[f]
		}
		if valid {
			w["Forwarded"] = []string{strings.Join(v, ", ") + ", " + ours}
		}
	}
	w["X-Request-Id"] = []string{"uuid"}
	if v := from("X-Request-Id"); len(v) > 0 && validRequestIDValue(v[0]) {
		w["X-Request-Id"] = []string{v[0]}
	}
	return w
}

// validRequestIDValue is header_policy's documented request ID rule: 1 to
// 200 visible ASCII characters without ',', '"' or '\'.
func validRequestIDValue(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// checkSeen compares what the backend got with want; a response's request
// ID must be the one the backend got.
func checkSeen(t *testing.T, what string, got seenRequest, resp rawResponse, want map[string][]string, site string) {
	t.Helper()
	for name, wv := range want {
		gv := got.Header[name]
		if len(wv) == 1 && wv[0] == "uuid" {
			if len(gv) != 1 || !uuidPattern.MatchString(gv[0]) {
				t.Errorf("%s: %s = %q, want one fresh request ID", what, name, gv)
			}
		} else if !reflect.DeepEqual(gv, wv) && (len(gv) > 0 || len(wv) > 0) {
			t.Errorf("%s: %s = %q, want %q", what, name, gv, wv)
		}
		if name == "X-Request-Id" && site != "nginx" && resp.header.Get(name) != strings.Join(gv, "") {
			t.Errorf("%s: response X-Request-Id %q, backend got %q", what, resp.header.Get(name), gv)
		}
	}
	if got.Host != site+".test" {
		t.Errorf("%s: Host %q, want %q", what, got.Host, site+".test")
	}
}

// TestHostileForwardingHeaders sends generated spoofing requests to the
// three policies and checks every forwarding field the backend receives.
func TestHostileForwardingHeaders(t *testing.T) {
	addr, backend := startHostileHeaders(t)
	port := portOf(addr)
	rng := rand.New(rand.NewPCG(12, 2026))
	n := hostileRounds(t, 150)
	for i := range n {
		req := genSpoof(rng)
		path := fmt.Sprintf("/spoof/%d", i)
		wire := req.wire(req.site+".test:"+port, path)
		resps := rawExchange(t, addr, wire, 1)
		what := fmt.Sprintf("case %d (%s site)\n%s", i, req.site, wire)
		if len(resps) != 1 || resps[0].status != 200 {
			t.Errorf("%s: responses %+v, want one 200", what, resps)
			continue
		}
		got := backend.last(t)
		if got.URI != path {
			t.Errorf("%s: backend's last request is %s", what, got.URI)
			continue
		}
		checkSeen(t, what, got, resps[0], req.want(port), req.site)
		if t.Failed() {
			return // one case in full is enough to read
		}
	}
}

// TestHostileConnectionNominations: each forwarding field the nginx preset
// sets, nominated alone and all together, in the forms a client may write.
// The backend behind real nginx (the seed's block) and behind frontdesk
// (header_policy nginx) receives the same X-Real-IP, X-Forwarded-For,
// X-Forwarded-Proto and Host, and neither sends X-Forwarded-Host.
func TestHostileConnectionNominations(t *testing.T) {
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	nginx := startSeedNginx(t, l.flask.Addr)
	forms := []string{
		"X-Real-IP",
		"x-real-ip",
		"X-Forwarded-For",
		"X-Forwarded-Proto",
		"X-Forwarded-Host",
		"Host",
		"keep-alive, X-Real-IP, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host",
		"X-REAL-IP ,\tx-forwarded-FOR",
		"Upgrade, X-Real-IP",
	}
	for _, form := range forms {
		for _, extra := range [][]string{nil, {"X-Real-IP: 6.6.6.6", "X-Forwarded-Host: evil.example"}} {
			hdr := append([]string{"Connection: " + form}, extra...)
			viaNginx := backendHeaders(t, do(t, "GET", "http://"+nginx+"/api/headers", "", hdr...).body)
			viaFrontdesk := backendHeaders(t, do(t, "GET", "http://"+l.proxy+"/api/headers", "", hdr...).body)
			for _, name := range []string{"Host", "X-Real-Ip", "X-Forwarded-For", "X-Forwarded-Proto"} {
				if viaNginx[name] == "" || viaFrontdesk[name] != viaNginx[name] {
					t.Errorf("Connection: %s %v: %s through frontdesk %q, through nginx %q", form, extra, name, viaFrontdesk[name], viaNginx[name])
				}
			}
			if v, ok := viaFrontdesk["X-Forwarded-Host"]; ok {
				t.Errorf("Connection: %s %v: X-Forwarded-Host %q reached the backend", form, extra, v)
			}
		}
	}
}

// TestHostileHeaderFraming: header forms the server must refuse before any
// handler runs. What must hold: 400, and the backend sees nothing.
func TestHostileHeaderFraming(t *testing.T) {
	addr, backend := startHostileHeaders(t)
	host := "nginx.test:" + portOf(addr)
	for _, c := range []struct{ name, head string }{
		{"two Host lines", "Host: " + host + "\r\nHost: trusted.test\r\n"},
		{"obs-fold on the first line", " X-Real-IP: 6.6.6.6\r\nHost: " + host + "\r\n"},
		{"space before the colon", "Host: " + host + "\r\nX-Real-IP : 6.6.6.6\r\n"},
		{"fold inside a name", "Host: " + host + "\r\nX-Real\r\n -IP: 6.6.6.6\r\n"},
		{"NUL in a value", "Host: " + host + "\r\nX-Real-IP: 6.6.6.6\x00\r\n"},
		{"CR alone in a value", "Host: " + host + "\r\nX-Real-IP: 6.6.6.6\rX-Forwarded-For: 1.2.3.4\r\n"},
	} {
		before := backend.count()
		resps := rawExchange(t, addr, "GET /framing HTTP/1.1\r\n"+c.head+"\r\n", 1)
		if len(resps) != 1 || resps[0].status != http.StatusBadRequest {
			t.Errorf("%s: responses %+v, want 400", c.name, resps)
		}
		if backend.count() != before {
			t.Errorf("%s: the backend received %+v", c.name, backend.last(t))
		}
	}
}
