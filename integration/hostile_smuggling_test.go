package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Request smuggling against frontdesk fronting a raw-socket backend that
// records every byte it receives. Each form is sent as raw bytes, followed on
// the same connection by a probe request with "Connection: close". What must
// hold, for every form:
//   - the backend never receives the smuggled request (/smuggled);
//   - every byte the backend receives parses as well-formed HTTP/1.1 with
//     consistent framing (no request it cannot frame, none with both
//     Content-Length and Transfer-Encoding);
//   - the attack request is either refused (4xx or 501, and not forwarded)
//     or forwarded exactly once, with the body frontdesk read from it;
//   - nothing reaches the backend but the attack request and the probe.

var smuggleCaddyfile = globalBlock("auto_https off") + `
http://smuggle.test:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	header_policy nginx
	reverse_proxy {$BACKEND}
}
`

// smuggleForm is one attack: the request's head (without the request line)
// and its body bytes as sent.
type smuggleForm struct {
	name, head, body string
}

// smuggled is the request an attacker hides in a body.
func smuggled(host string) string {
	return "GET /smuggled HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
}

func chunk(s string) string { return strconv.FormatInt(int64(len(s)), 16) + "\r\n" + s + "\r\n" }

// smuggleForms are the fixed forms: CL+TE both ways, odd TE values, spellings
// and whitespace, duplicate and malformed Content-Length, chunk-size
// overflows, bare LF.
func smuggleForms(host string) []smuggleForm {
	s := smuggled(host)
	clte := "0\r\n\r\n" + s
	tecl := chunk(s) + "0\r\n\r\n"
	cl := func(body string) string { return "Content-Length: " + strconv.Itoa(len(body)) + "\r\n" }
	forms := []smuggleForm{
		{"CL.TE", cl(clte) + "Transfer-Encoding: chunked\r\n", clte},
		{"TE.CL", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", tecl},
		{"TE first, then CL", "Transfer-Encoding: chunked\r\n" + cl(clte), clte},
		{"two CLs, differing", "Content-Length: 5\r\nContent-Length: " + strconv.Itoa(len(s)+5) + "\r\n", "hello" + s},
		{"CL list, differing", "Content-Length: 5, " + strconv.Itoa(len(s)+5) + "\r\n", "hello" + s},
		{"CL list, equal", "Content-Length: 5, 5\r\n", "hello" + s},
		{"CL with a sign", "Content-Length: +5\r\n", "hello" + s},
		{"CL in hex", "Content-Length: 0x5\r\n", "hello" + s},
		{"CL negative", "Content-Length: -1\r\n", s},
		{"CL overflow", "Content-Length: 99999999999999999999999\r\n", s},
		{"CL with a space before the colon", "Content-Length : 5\r\n", "hello" + s},
		{"CL obs-folded", "Content-Length:\r\n 5\r\n", "hello" + s},
	}
	for _, te := range []string{
		"xchunked", "chunked, identity", "identity, chunked", "chunked, chunked", "CHUNKED", " chunked",
		"\tchunked", "chunked ", "\x0bchunked", "chunked\x0b", "gzip, chunked", "identity", "chunked;q=1",
		"\"chunked\"", "chunk", "chunked\r\nTransfer-Encoding: identity", "identity\r\nTransfer-Encoding: chunked",
	} {
		forms = append(forms,
			smuggleForm{"TE " + strconv.Quote(te) + " with CL", cl(clte) + "Transfer-Encoding: " + te + "\r\n", clte},
			smuggleForm{"TE " + strconv.Quote(te) + " alone", "Transfer-Encoding: " + te + "\r\n", tecl})
	}
	forms = append(forms,
		smuggleForm{"TE with a space before the colon", "Transfer-Encoding : chunked\r\n" + cl(clte), clte},
		smuggleForm{"TE obs-folded", "Transfer-Encoding:\r\n chunked\r\n" + cl(clte), clte},
		smuggleForm{"TE spelled with underscore", "Transfer_Encoding: chunked\r\n" + cl(clte), clte},
		smuggleForm{"chunk size overflow", "Transfer-Encoding: chunked\r\n", "ffffffffffffffff1\r\n" + s + "\r\n0\r\n\r\n"},
		smuggleForm{"chunk size 2^64", "Transfer-Encoding: chunked\r\n", "10000000000000000\r\n" + s + "\r\n0\r\n\r\n"},
		smuggleForm{"chunk size with 0x", "Transfer-Encoding: chunked\r\n", "0x" + chunk(s) + "0\r\n\r\n"},
		smuggleForm{"chunk size negative", "Transfer-Encoding: chunked\r\n", "-1\r\n" + s + "\r\n0\r\n\r\n"},
		smuggleForm{"chunk size short of the data", "Transfer-Encoding: chunked\r\n", "1\r\n" + s + "\r\n0\r\n\r\n"},
		smuggleForm{"chunk extension with a NUL", "Transfer-Encoding: chunked\r\n", "5;x=\x00\r\nhello\r\n0\r\n\r\n" + s},
		smuggleForm{"chunk lines ending in bare LF", "Transfer-Encoding: chunked\r\n", "5\nhello\n0\n\n" + s},
		smuggleForm{"chunk data without CRLF", "Transfer-Encoding: chunked\r\n", "5\r\nhello0\r\n\r\n" + s},
		smuggleForm{"last chunk with trailers smuggling", "Transfer-Encoding: chunked\r\n", "0\r\nX: y\r\n" + s + "\r\n"},
		smuggleForm{"bare LF head", "Content-Length: 5\nTransfer-Encoding: chunked\n", "0\r\n\r\n" + s},
	)
	return forms
}

// genSmuggleForm draws a CL/TE combination: several CL and TE lines with
// random casing, whitespace and values, and a body built for one reading of
// them that hides the smuggled request for another.
func genSmuggleForm(rng *rand.Rand, host string) smuggleForm {
	s := smuggled(host)
	bodies := []string{"0\r\n\r\n" + s, chunk(s) + "0\r\n\r\n", "hello" + s}
	body := bodies[rng.IntN(len(bodies))]
	teValues := []string{"chunked", "Chunked", "identity", "chunked, identity", "x", "chunked,", ",chunked", "gzip"}
	clValues := []string{"0", "5", strconv.Itoa(len(body)), strconv.Itoa(len(body) + 7), "5, " + strconv.Itoa(len(body)), "1e2", " 5"}
	var head strings.Builder
	for range 1 + rng.IntN(4) {
		ws := []string{"", " ", "\t", "  "}[rng.IntN(4)]
		if rng.IntN(2) == 0 {
			head.WriteString(oddCase(rng, "Transfer-Encoding") + ":" + ws + teValues[rng.IntN(len(teValues))] + "\r\n")
		} else {
			head.WriteString(oddCase(rng, "Content-Length") + ":" + ws + clValues[rng.IntN(len(clValues))] + "\r\n")
		}
	}
	return smuggleForm{name: "generated", head: head.String(), body: body}
}

// TestHostileSmuggling sends every form and the generated ones.
func TestHostileSmuggling(t *testing.T) {
	backend := newRawBackend(t)
	path := filepath.Join(t.TempDir(), "smuggle.Caddyfile")
	if err := os.WriteFile(path, []byte(smuggleCaddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	_, addr := startCaddyfile(t, path, t.TempDir(), "BACKEND="+backend.addr())
	host := "smuggle.test:" + portOf(addr)

	forms := smuggleForms(host)
	rng := rand.New(rand.NewPCG(7, 2026))
	for range hostileRounds(t, 60) {
		forms = append(forms, genSmuggleForm(rng, host))
	}
	for i, f := range forms {
		checkSmuggle(t, backend, addr, host, i, f)
	}
}

// netHTTPLeniency names, for the fixed forms, why Go's net/http (which parses
// requests for Caddy) lets them through: obs-fold in a framing header is
// unfolded (RFC 9112 §5.2 allows it; nginx answers 400).
var netHTTPLeniency = map[string]string{
	"CL obs-folded": "net/http unfolds obs-fold in Content-Length",
	"TE obs-folded": "net/http unfolds obs-fold in Transfer-Encoding, and keeps the connection after TE+CL",
}

// teclKeptOpen is golang/go#80942: net/http answers a request with both
// Transfer-Encoding: chunked and Content-Length by the chunked framing (right)
// but keeps the connection open (RFC 9112 §6.1: MUST close), so what follows
// the chunked body is read as a next request. Fixed upstream in Go commit
// b2b97b94965f, not in the toolchain this module builds with.
const teclKeptOpen = "golang/go#80942: TE+CL request, connection kept open"

// checkSmuggle sends one form and checks what the backend got from it.
func checkSmuggle(t *testing.T, backend *rawBackend, addr, host string, i int, f smuggleForm) {
	t.Helper()
	attack, probe := fmt.Sprintf("/attack/%d", i), fmt.Sprintf("/probe/%d", i)
	before := backend.snapshot()
	wire := "POST " + attack + " HTTP/1.1\r\nHost: " + host + "\r\n" + f.head + "\r\n" + f.body +
		"GET " + probe + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"
	if strings.HasPrefix(f.name, "bare LF") {
		wire = strings.Replace(wire, " HTTP/1.1\r\nHost: "+host+"\r\n", " HTTP/1.1\nHost: "+host+"\n", 1)
	}
	resps := rawExchange(t, addr, wire, 5)
	what := fmt.Sprintf("form %d %q\n%q", i, f.name, wire)
	if len(resps) == 0 {
		t.Errorf("%s: no response at all", what)
		return
	}
	got := backend.snapshot().since(before)
	reqs, errs, raw := got.reqs, got.errs, got.raw
	framing := strictFraming(f.head)

	// Framing: always, known leniency or not.
	if len(errs) > 0 {
		t.Errorf("%s: the backend could not frame what it received: %v\n%q", what, errs, raw)
	}
	var smuggledThrough []string // what a strict server would not have let through
	attacks, chunkedAttack, ownRequest := 0, false, false
	for _, r := range reqs {
		switch r.uri {
		case attack:
			attacks++
			chunkedAttack = r.chunked
			if r.header.Get("Content-Length") != "" && r.chunked {
				t.Errorf("%s: forwarded with both Content-Length and Transfer-Encoding: %v", what, r.header)
			}
		case probe:
		case "/smuggled":
			// The client's own next request when the framing is clear;
			// smuggled when a strict server would not have read it so.
			ownRequest = true
			if framing == framingAmbiguous || framing == framingTECL {
				smuggledThrough = append(smuggledThrough, "the backend received GET /smuggled as a request of its own")
			}
		default:
			t.Errorf("%s: the backend received %s %s (body %q)", what, r.method, r.uri, r.body)
		}
	}
	if strings.Contains(raw, "GET /smuggled") && !bodyCarries(reqs, "GET /smuggled") && !ownRequest {
		t.Errorf("%s: the smuggled request reached the backend outside any body:\n%q", what, raw)
	}
	// Refused: an error status, and no complete copy at the backend. A body
	// found malformed while it streams gives reverse_proxy's 502, and the
	// backend's copy is cut off with its connection (got.truncated).
	status := resps[0].status
	refused := status >= 400
	switch {
	case refused && attacks != 0:
		t.Errorf("%s: answered %d but forwarded the request", what, status)
	case !refused && (status != 200 || attacks != 1):
		t.Errorf("%s: answered %d, forwarded %d times; want a refusal or one forward", what, status, attacks)
	case framing == framingAmbiguous && !refused:
		smuggledThrough = append(smuggledThrough, fmt.Sprintf("ambiguous framing answered %d and forwarded", status))
	}
	for _, r := range resps {
		if r.status == 200 && r.body != "ok" {
			t.Errorf("%s: a 200 with body %q", what, r.body)
		}
	}
	if len(resps) > 2 && framing != framingClear {
		var statuses []int
		for _, r := range resps {
			statuses = append(statuses, r.status)
		}
		smuggledThrough = append(smuggledThrough, fmt.Sprintf("responses %v on one connection for two requests", statuses))
	}

	// A second request out of one: a defect unless net/http's known
	// leniency explains it, and then the known entry must still be needed.
	reason, byName := netHTTPLeniency[f.name]
	known := byName
	if !known && framing == framingTECL && chunkedAttack {
		reason, known = teclKeptOpen, true
	}
	switch {
	case len(smuggledThrough) > 0 && !known:
		t.Errorf("%s: %s", what, strings.Join(smuggledThrough, "; "))
	case len(smuggledThrough) == 0 && byName:
		t.Errorf("%s: holds now; %q no longer applies, drop it from the known leniencies", what, reason)
	case len(smuggledThrough) > 0:
		t.Logf("form %d %q: known, %s", i, f.name, reason)
	}
}

// Framings of a request head, read strictly (RFC 9112 §6): one
// Transfer-Encoding line that is exactly chunked, or Content-Length lines
// that are all the same 1*DIGIT; no obs-fold in either.
const (
	framingClear     = "clear"
	framingTECL      = "chunked and Content-Length" // RFC: process by TE and close, or refuse
	framingAmbiguous = "ambiguous"                  // a strict server refuses
)

func strictFraming(head string) string {
	var te, cl []string
	lines := strings.Split(strings.ReplaceAll(head, "\r\n", "\n"), "\n")
	for i, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		lname := strings.ToLower(name)
		if !ok || (lname != "transfer-encoding" && lname != "content-length") {
			if strings.Contains(strings.ToLower(line), "transfer-encoding") || strings.Contains(strings.ToLower(line), "content-length") {
				return framingAmbiguous // "Name :" or a folded name
			}
			continue
		}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") || i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
			return framingAmbiguous // obs-fold in a framing field
		}
		value = strings.Trim(value, " \t")
		if lname == "transfer-encoding" {
			te = append(te, value)
		} else {
			cl = append(cl, value)
		}
	}
	for _, v := range cl {
		if v == "" || strings.Trim(v, "0123456789") != "" || v != cl[0] {
			return framingAmbiguous
		}
	}
	switch {
	case len(te) == 0:
		return framingClear
	case len(te) > 1 || !strings.EqualFold(te[0], "chunked"):
		return framingAmbiguous
	case len(cl) > 0:
		return framingTECL
	}
	return framingClear
}

// bodyCarries reports whether some forwarded request's body holds s (then
// it is data, framed as such, not a request).
func bodyCarries(reqs []rawSeen, s string) bool {
	for _, r := range reqs {
		if strings.Contains(r.body, s) {
			return true
		}
	}
	return false
}
