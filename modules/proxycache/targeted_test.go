package proxycache

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hitTTL is the ttl of the hit Cache-Status, or -1.
func hitTTL(h http.Header) int {
	m := regexp.MustCompile(`; hit; ttl=(-?\d+)`).FindStringSubmatch(h.Get("Cache-Status"))
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestTargetedRFC9213: RFC 9213 §2.3's examples and the rules of §2.1 and
// §2.2, each as the response a cache whose target list is
// [CDN-Cache-Control] (or the configured one) sees. want is the second
// request's status, and ttl (when > 0) the freshness lifetime the hit
// shows, within 10 s.
func TestTargetedRFC9213(t *testing.T) {
	past := httpDate(time.Now().Add(-time.Hour))
	list := `{"targeted_fields":["Frontdesk-Cache-Control","CDN-Cache-Control"]}`
	cases := []struct {
		name, cfg string
		hdr       []string
		want      string
		ttl       int
	}{
		// §2.3: "fresh for 600 seconds [for a CDN], other shared caches 120, remaining caches 60".
		{"RFC example: CDN 600 over s-maxage 120", "", []string{"Cache-Control", "max-age=60, s-maxage=120", "CDN-Cache-Control", "max-age=600"}, labelHit, 600},
		// §2.3: "a CDN cache [stores] for 600 seconds, while all other caches would be prevented from storing it".
		{"RFC example: CDN 600 over no-store", "", []string{"Cache-Control", "no-store", "CDN-Cache-Control", "max-age=600"}, labelHit, 600},
		// §2.3: "Because CDN-Cache-Control is not present, this ... would prevent all caches from storing".
		{"RFC example: no-store alone", "", []string{"Cache-Control", "no-store"}, labelMiss, 0},
		// §2.3: "would prevent all caches except for CDN caches from storing" ("none" is no directive).
		{"RFC example: CDN none", `{"valid":{"200":600000000000}}`, []string{"Cache-Control", "no-store", "CDN-Cache-Control", "none"}, labelHit, 600},
		// §2.1: the cache "MUST ignore the Cache-Control and Expires header fields".
		{"Expires ignored", "", []string{"Expires", past, "CDN-Cache-Control", "max-age=600"}, labelHit, 600},
		{"targeted no-store beats Expires", "", []string{"Expires", httpDate(time.Now().Add(time.Hour)), "CDN-Cache-Control", "no-store"}, labelMiss, 0},
		// §2.1: "the first (in target list order) field with a valid, non-empty value".
		{"target list order", list, []string{"CDN-Cache-Control", "max-age=600", "Frontdesk-Cache-Control", "max-age=300"}, labelHit, 300},
		{"first invalid: the next", list, []string{"Frontdesk-Cache-Control", "max-age=300,", "CDN-Cache-Control", "max-age=600"}, labelHit, 600},
		{"first empty: the next", list, []string{"Frontdesk-Cache-Control", "", "CDN-Cache-Control", "max-age=600"}, labelHit, 600},
		// §2.2: a Structured Field; "a parsing error ... field MUST be ignored".
		{"invalid (upper-case key): Cache-Control", "", []string{"Cache-Control", "no-store", "CDN-Cache-Control", "Max-Age=600"}, labelMiss, 0},
		{"invalid (bad string): Cache-Control", "", []string{"Cache-Control", "max-age=60", "CDN-Cache-Control", `no-cache="x`}, labelHit, 60},
		{"empty: Cache-Control", "", []string{"Cache-Control", "max-age=60", "CDN-Cache-Control", ""}, labelHit, 60},
		// §2.1: "no-store and max-age are not combined ... no-store takes precedence".
		{"no-store with max-age", "", []string{"CDN-Cache-Control", "max-age=600, no-store"}, labelMiss, 0},
		{"private", "", []string{"Cache-Control", "max-age=60", "CDN-Cache-Control", "private"}, labelMiss, 0},
		// RFC 8941: field lines combine; a repeated key keeps its last value.
		{"lines combine", "", []string{"CDN-Cache-Control", "max-age=600", "CDN-Cache-Control", "no-store"}, labelMiss, 0},
		{"last value wins", "", []string{"CDN-Cache-Control", "max-age=5, max-age=600"}, labelHit, 600},
		{"parameters ignored", "", []string{"CDN-Cache-Control", "max-age=600;foo=bar"}, labelHit, 600},
		{"false boolean is absent", "", []string{"CDN-Cache-Control", "no-store=?0, max-age=600"}, labelHit, 600},
		// §2.1: "Targeted fields that are not on a cache's target list MUST NOT change that cache's behavior".
		{"not on the target list", "", []string{"Cache-Control", "max-age=60", "Frontdesk-Cache-Control", "no-store"}, labelHit, 60},
		{"targeted fields off", `{"targeted_fields":[]}`, []string{"Cache-Control", "no-store", "CDN-Cache-Control", "max-age=600"}, labelMiss, 0},
		{"ignore_headers Cache-Control ignores them", `{"ignore_headers":["Cache-Control"],"valid":{"200":60000000000}}`, []string{"CDN-Cache-Control", "no-store"}, labelHit, 60},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHandler(t, c.cfg)
			o := respond(200, "body", c.hdr...)
			send(t, h, o, "GET", "/r")
			w := send(t, h, o, "GET", "/r")
			if xcs(w) != c.want {
				t.Fatalf("second request: %s, want %s (Cache-Status %q)", xcs(w), c.want, w.Header().Get("Cache-Status"))
			}
			if got := hitTTL(w.Header()); c.ttl > 0 && (got > c.ttl || got < c.ttl-10) {
				t.Errorf("ttl %d, want %d", got, c.ttl)
			}
		})
	}
}

// TestTargetedForwarding: the target list's fields reach the client by
// default, on a miss and on a hit; with forward_targeted off they reach
// neither, and fields not on the list always do.
func TestTargetedForwarding(t *testing.T) {
	for i, c := range []struct {
		cfg     string
		forward bool
	}{{"", true}, {`{"forward_targeted":false}`, false}} {
		h := newHandler(t, c.cfg)
		o := respond(200, "body", "CDN-Cache-Control", "max-age=600", "Other-Cache-Control", "no-store")
		for _, want := range []string{labelMiss, labelHit} {
			w := send(t, h, o, "GET", "/f"+strconv.Itoa(i))
			expectStatus(t, w, want)
			if got := w.Header().Get("CDN-Cache-Control") != ""; got != c.forward {
				t.Errorf("%s %s: CDN-Cache-Control forwarded %v, want %v", c.cfg, want, got, c.forward)
			}
			if w.Header().Get("Other-Cache-Control") != "no-store" {
				t.Errorf("%s %s: a field not on the target list was not passed on", c.cfg, want)
			}
		}
		// An unsafe method's response too.
		w := send(t, h, o, "POST", "/f"+strconv.Itoa(i))
		if got := w.Header().Get("CDN-Cache-Control") != ""; got != c.forward {
			t.Errorf("%s POST: CDN-Cache-Control forwarded %v, want %v", c.cfg, got, c.forward)
		}
	}
}

func TestParseTargetedField(t *testing.T) {
	for _, c := range []struct {
		lines []string
		want  string // sorted "k=v" pairs, or "invalid"
	}{
		{[]string{"max-age=60"}, "max-age=60"},
		{[]string{`max-age=60, no-cache="a, b", private`}, "max-age=60 no-cache=a, b private="},
		{[]string{"max-age=60", "s-maxage=5"}, "max-age=60 s-maxage=5"},
		{[]string{"a=1.5, b=tok/x:y, c=:aGk=:, d=(1 2), e"}, "a=1.5 b=tok/x:y c=aGk= d= e="},
		{[]string{"*x=-3"}, "*x=-3"},
		{[]string{"max-age=60,"}, "invalid"},
		{[]string{"Max-Age=60"}, "invalid"},
		{[]string{"max-age=1234567890123456"}, "invalid"},
		{[]string{"a=1.2345"}, "invalid"},
		{[]string{"a=1."}, "invalid"},
		{[]string{`a="\x"`}, "invalid"},
		{[]string{"a=?2"}, "invalid"},
		{[]string{"a=(1 2"}, "invalid"},
		{[]string{"a b"}, "invalid"},
		{[]string{""}, "invalid"},
		{[]string{" "}, "invalid"},
		{nil, "invalid"},
	} {
		d, ok := parseTargetedField(c.lines)
		got := "invalid"
		if ok {
			var kv []string
			for k, v := range d {
				kv = append(kv, k+"="+v)
			}
			sortStrings(kv)
			got = strings.Join(kv, " ")
		}
		if got != c.want {
			t.Errorf("%q: %q, want %q", c.lines, got, c.want)
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func FuzzParseTargetedField(f *testing.F) {
	for _, s := range []string{"max-age=60", `no-cache="a, b", private`, "a=(1 2);x=?1", "Max-Age=1", "a=1.234", ":", `"`, "a=:=:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseTargetedField([]string{v})
		if !ok {
			return
		}
		for k := range d {
			if k == "" || (!isLCAlpha(k[0]) && k[0] != '*') {
				t.Fatalf("%q: key %q", v, k)
			}
		}
	})
}
