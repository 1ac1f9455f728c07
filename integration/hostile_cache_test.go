package integration

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// Cache poisoning and deception against proxy_cache behind header_policy
// nginx (the lab's order). The origin reflects what it is sent, as careless
// origins do. What must hold: no client's request changes what another
// client is answered from the cache; requests that differ in what routes
// them or what the origin answers never share an entry; responses that are
// private to a client (Set-Cookie, Authorization, private) are not served to
// another client unless the origin explicitly allows it.

// hostileCacheCaddyfile: cache.test caches; ref.test is the same proxy
// without the cache, the reference for what the origin answers.
var hostileCacheCaddyfile = globalBlock("auto_https off") + `
http://cache.test:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	header_policy nginx
	proxy_cache
	reverse_proxy {$ORIGIN}
}

http://ref.test:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	header_policy nginx
	reverse_proxy {$ORIGIN}
}
`

// reflectedFields are request fields the origin echoes in its body: the
// forwarding family, the URL overrides, and the client's credentials.
var reflectedFields = []string{"X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Scheme",
	"X-Forwarded-Proto", "X-Forwarded-Server", "X-Original-Url", "X-Rewrite-Url", "Forwarded", "X-Real-Ip",
	"X-Custom", "Authorization", "Cookie"}

// reflectingOrigin answers "host=... uri=... <field>=<value>..." with
// Cache-Control max-age=60, except: /cookie/ sets a fresh session cookie,
// /private/ says private, /public-auth/ says public, /vary/ varies on
// X-Custom, /account/ sends no caching fields.
func reflectingOrigin(t *testing.T) testBackend {
	t.Helper()
	var sessions atomic.Int64
	return startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sb strings.Builder
		sb.WriteString("host=" + r.Host + " uri=" + r.RequestURI)
		for _, f := range reflectedFields {
			if v := r.Header.Values(f); len(v) > 0 {
				sb.WriteString(" " + f + "=" + strings.Join(v, "|"))
			}
		}
		h := w.Header()
		switch {
		case strings.HasPrefix(r.URL.Path, "/cookie/"):
			h.Set("Set-Cookie", "session="+strconv.FormatInt(sessions.Add(1), 10))
			h.Set("Cache-Control", "max-age=60")
		case strings.HasPrefix(r.URL.Path, "/private/"):
			h.Set("Cache-Control", "private, max-age=60")
		case strings.HasPrefix(r.URL.Path, "/public-auth/"):
			h.Set("Cache-Control", "public, max-age=60")
		case strings.HasPrefix(r.URL.Path, "/vary/"):
			h.Set("Cache-Control", "max-age=60")
			h.Set("Vary", "X-Custom")
		case strings.HasPrefix(r.URL.Path, "/account/"):
		default:
			h.Set("Cache-Control", "max-age=60")
		}
		h.Set("Content-Type", "text/plain")
		w.Write([]byte(sb.String()))
	}))
}

// startHostileCache runs both sites in front of a reflecting origin.
func startHostileCache(t *testing.T) string {
	t.Helper()
	origin := reflectingOrigin(t)
	path := filepath.Join(t.TempDir(), "hostile-cache.Caddyfile")
	if err := os.WriteFile(path, []byte(hostileCacheCaddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	_, addr := startCaddyfile(t, path, t.TempDir(), "ORIGIN="+origin.addr())
	return addr
}

// rawGet sends one GET with the raw request-target and header lines (for
// targets Go's client would normalize) and returns the response.
func rawGet(t *testing.T, addr, target, host string, hdr ...string) rawResponse {
	t.Helper()
	wire := "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n"
	for _, h := range hdr {
		wire += h + "\r\n"
	}
	resps := rawExchange(t, addr, wire+"Connection: close\r\n\r\n", 1)
	if len(resps) != 1 {
		t.Fatalf("GET %s (Host %s): %d responses", target, host, len(resps))
	}
	return resps[0]
}

// poisonHeaders are unkeyed request fields an attacker sets hoping the origin
// reflects them into a stored response.
var poisonHeaders = []string{
	"X-Forwarded-Host: evil.example", "X-Forwarded-Port: 6666", "X-Forwarded-Prefix: /evil",
	"X-Forwarded-Scheme: evil", "X-Forwarded-Proto: evil", "X-Forwarded-Server: evil", "X-Original-URL: /evil",
	"X-Rewrite-URL: /evil", "Forwarded: host=evil.example", "X-Real-IP: 6.6.6.6",
}

// TestHostileCachePoisoning: an attacker's request with unkeyed forwarding
// fields is stored; the next client is answered from it. That answer must
// carry nothing the attacker sent. Under /vary/ the attacker also sends
// X-Custom, which the origin reflects and declares in Vary: the victim must
// get its own variant. (An origin that reflects any other field without Vary
// poisons every shared cache; no key can stop that.)
func TestHostileCachePoisoning(t *testing.T) {
	addr := startHostileCache(t)
	host := "cache.test:" + portOf(addr)
	rng := rand.New(rand.NewPCG(3, 2026))
	for i := range hostileRounds(t, 40) {
		prefix := []string{"/p/", "/vary/"}[rng.IntN(2)]
		target := fmt.Sprintf("%s%d?q=%d", prefix, i, rng.IntN(100))
		var hdr []string
		for _, h := range poisonHeaders {
			if rng.IntN(2) == 0 {
				name, value, _ := strings.Cut(h, ": ")
				hdr = append(hdr, oddCase(rng, name)+": "+value)
			}
		}
		if prefix == "/vary/" {
			hdr = append(hdr, "X-Custom: evil")
		}
		attacker := rawGet(t, addr, target, host, hdr...)
		victim := rawGet(t, addr, target, host)
		what := fmt.Sprintf("round %d: GET %s with %q", i, target, hdr)
		if attacker.status != 200 || victim.status != 200 {
			t.Fatalf("%s: status %d, then %d", what, attacker.status, victim.status)
		}
		if strings.Contains(victim.body, "evil") || strings.Contains(victim.body, "6666") || strings.Contains(victim.body, "6.6.6.6") {
			t.Errorf("%s: the next client got %q (X-Cache-Status %s)", what, victim.body, victim.header.Get("X-Cache-Status"))
		}
		if prefix == "/p/" && victim.header.Get("X-Cache-Status") != "HIT" {
			t.Errorf("%s: the next client got %s, want a HIT (the attack must have been stored to prove anything)", what, victim.header.Get("X-Cache-Status"))
		}
	}
}

// keyVariant rewrites a base path into a form a cache might confuse with it:
// percent-encoding, case, double slashes, dot segments, host case, port,
// trailing dot.
func keyVariant(rng *rand.Rand, base, host, port string) (target, hostHdr string) {
	target, hostHdr = base, host+":"+port
	switch rng.IntN(9) {
	case 0: // an unreserved character percent-encoded
		i := 1 + rng.IntN(len(base)-1)
		if c := base[i]; c != '/' && c != '?' && c != '=' && c != '&' {
			target = base[:i] + fmt.Sprintf("%%%02X", c) + base[i+1:]
		}
	case 1: // a slash percent-encoded
		target = strings.Replace(base, "/", "%2F", 2)
	case 2:
		target = strings.Replace(base, "/", "//", 2)
	case 3:
		target = strings.Replace(base, "/k/", "/k/./", 1)
	case 4:
		target = strings.Replace(base, "/k/", "/x/../k/", 1)
	case 5:
		target = strings.ToUpper(base[:3]) + base[3:]
	case 6:
		hostHdr = strings.ToUpper(host) + ":" + port
	case 7:
		hostHdr = host // no port
	case 8:
		hostHdr = host + ".:" + port
	}
	return target, hostHdr
}

// TestHostileCacheKeyConfusion: request variants that a cache could fold
// into one key are sent in random order, each several times. Each answer
// from the cache site must be what the origin answers that very request
// (asked through the identical site without cache).
func TestHostileCacheKeyConfusion(t *testing.T) {
	addr := startHostileCache(t)
	port := portOf(addr)
	rng := rand.New(rand.NewPCG(5, 2026))
	type variant struct{ target, host string }
	var variants []variant
	for i := range hostileRounds(t, 30) {
		base := fmt.Sprintf("/k/item-%d?a=%d&b=x", i%6, i%3)
		target, host := keyVariant(rng, base, "cache.test", port)
		variants = append(variants, variant{target, host}, variant{base, "cache.test:" + port})
	}
	for round := range 2 {
		rng.Shuffle(len(variants), func(i, j int) { variants[i], variants[j] = variants[j], variants[i] })
		for _, v := range variants {
			got := rawGet(t, addr, v.target, v.host)
			refHost := strings.Replace(strings.ToLower(v.host), "cache.test", "ref.test", 1)
			want := rawGet(t, addr, v.target, refHost)
			if got.status != want.status || strings.Replace(want.body, "ref.test", "cache.test", 1) != got.body {
				t.Errorf("round %d: GET %s (Host %s): cache site %d %q (%s), origin answers %d %q",
					round, v.target, v.host, got.status, got.body, got.header.Get("X-Cache-Status"), want.status, want.body)
			}
		}
	}
}

// TestHostileCachePrivateResponses: RFC 9111 §3.5 and private/Set-Cookie.
func TestHostileCachePrivateResponses(t *testing.T) {
	addr := startHostileCache(t)
	host := "cache.test:" + portOf(addr)
	cases := []struct {
		name, path string
		alice, bob []string // the two clients' own fields
		shared     bool     // the origin allows sharing: bob gets alice's stored answer
	}{
		{name: "Set-Cookie is never replayed", path: "/cookie/1"},
		{name: "Authorization, no explicit permission", path: "/p/auth", alice: []string{"Authorization: Bearer alice"}},
		{name: "Authorization, other user", path: "/p/auth2", alice: []string{"Authorization: Bearer alice"}, bob: []string{"Authorization: Bearer bob"}},
		{name: "private", path: "/private/1", alice: []string{"Cookie: user=alice"}},
		{name: "deception: account page under a static-looking name", path: "/account/me.css", alice: []string{"Cookie: user=alice"}},
		{name: "Authorization with public: shared as allowed", path: "/public-auth/1", alice: []string{"Authorization: Bearer alice"}, shared: true},
	}
	for _, c := range cases {
		a := rawGet(t, addr, c.path, host, c.alice...)
		b := rawGet(t, addr, c.path, host, c.bob...)
		if a.status != 200 || b.status != 200 {
			t.Fatalf("%s: status %d, %d", c.name, a.status, b.status)
		}
		hit := b.header.Get("X-Cache-Status") == "HIT"
		switch {
		case c.shared && (!hit || b.body != a.body):
			t.Errorf("%s: second client got %s %q, want a HIT with %q", c.name, b.header.Get("X-Cache-Status"), b.body, a.body)
		case !c.shared && (hit || strings.Contains(b.body, "alice")):
			t.Errorf("%s: second client got %s %q", c.name, b.header.Get("X-Cache-Status"), b.body)
		}
		if ac, bc := a.header.Get("Set-Cookie"), b.header.Get("Set-Cookie"); ac != "" && ac == bc {
			t.Errorf("%s: both clients got Set-Cookie %q", c.name, ac)
		}
	}
}
