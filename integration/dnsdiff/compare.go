package dnsdiff

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// sectionNames are the sections compared, in message order.
var sectionNames = [3]string{"answer", "authority", "additional"}

// Answer is a reply reduced to what is compared: nothing nondeterministic is
// left in it but the TTLs, which are compared apart (±1 s).
type Answer struct {
	Failure  string // "timeout" or "error" when no answer came; "" otherwise
	Rcode    string
	Flags    string // "aa ra rd ..." set bits of aa, tc, ra, rd, ad, cd
	OPT      string // "no-opt" or the OPT record: UDP size, DO, extended rcode, options
	Sections [3][]string
	TTLs     [3][]uint32
	Types    [3][]string // sorted distinct record types of each section
	Upstream int64       // queries the side's upstream received for it
}

// Normalize reduces m, or the exchange's error (a timeout or another
// failure: no answer). Over TCP, the Filtered extended error is dropped
// first, from both sides (see DropSpuriousFiltered): dnsmasq's is not
// reliable there, so Frontdesk's, sent where dnsmasq sends one over UDP,
// cannot be compared either.
func Normalize(m *dns.Msg, exchangeErr error, upstream int64, side Side, tcp bool) Answer {
	a := Answer{Upstream: upstream}
	if exchangeErr != nil || m == nil {
		a.Failure = "error"
		var ne net.Error
		if m == nil && exchangeErr == nil || errors.As(exchangeErr, &ne) && ne.Timeout() {
			a.Failure = "timeout"
		}
		return a
	}
	if tcp {
		DropSpuriousFiltered(m)
	}
	a.Rcode = dns.RcodeToString[m.Rcode]
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionAvailable, "ra"}, {m.RecursionDesired, "rd"},
		{m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	a.Flags = strings.Join(flags, " ")
	a.OPT = "no-opt"
	if o := m.IsEdns0(); o != nil {
		var opts []string
		for _, e := range o.Option {
			code := strconv.Itoa(int(e.Option()))
			if ede, ok := e.(*dns.EDNS0_EDE); ok {
				code += "." + strconv.Itoa(int(ede.InfoCode)) // the extended error's info code belongs to its shape
			}
			opts = append(opts, code+":"+e.String())
		}
		a.OPT = fmt.Sprintf("opt(udp=%d do=%v ext-rcode=%d version=%d [%s])", o.UDPSize(), o.Do(), o.ExtendedRcode(), o.Version(), strings.Join(opts, ", "))
	}
	for i, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		type item struct {
			s   string
			ttl uint32
		}
		var items []item
		types := map[string]bool{}
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			c := dns.Copy(rr)
			ttl := c.Header().Ttl
			c.Header().Ttl = 0
			items = append(items, item{c.String(), ttl})
			types[typeString(c.Header().Rrtype)] = true
		}
		sort.Slice(items, func(x, y int) bool { return items[x].s < items[y].s })
		for _, it := range items {
			a.Sections[i] = append(a.Sections[i], it.s)
			a.TTLs[i] = append(a.TTLs[i], it.ttl)
		}
		for t := range types {
			a.Types[i] = append(a.Types[i], t)
		}
		sort.Strings(a.Types[i])
	}
	return a
}

// Key is the answer without TTLs and upstream count, one line per item: what a
// regression case records as dnsmasq's answer.
func (a Answer) Key() []string {
	if a.Failure != "" {
		return []string{"no answer: " + a.Failure}
	}
	out := []string{"rcode=" + a.Rcode + " flags=[" + a.Flags + "] " + a.OPT}
	for i, name := range sectionNames {
		for _, s := range a.Sections[i] {
			out = append(out, name+": "+s)
		}
	}
	return out
}

// DropSpuriousFiltered removes an extended DNS error 17 (Filtered) without
// text from a dnsmasq reply over TCP: dnsmasq 2.90 adds one to some TCP
// replies and not to the same query asked again (an uninitialised value; seen
// only over TCP), so it is not an answer Frontdesk can match.
func DropSpuriousFiltered(m *dns.Msg) {
	o := m.IsEdns0()
	if o == nil {
		return
	}
	o.Option = slices.DeleteFunc(o.Option, func(e dns.EDNS0) bool {
		ede, ok := e.(*dns.EDNS0_EDE)
		return ok && ede.InfoCode == dns.ExtendedErrorCodeFiltered && ede.ExtraText == ""
	})
}

// Difference is how Frontdesk's answer differs from dnsmasq's.
type Difference struct {
	// Signature names the kind of difference with the values that matter
	// (rcodes, flags, record types), not the names and addresses, so the
	// same bug seen on other names has the same signature.
	Signature string
	// Detail is the full comparison for a human.
	Detail string
}

// Compare returns the differences of got (Frontdesk) from want (dnsmasq);
// nil when they agree. TTLs may differ by one second (both count down in
// whole seconds from slightly different instants).
func Compare(want, got Answer) *Difference {
	var sig, detail []string
	add := func(s, d string) {
		sig = append(sig, s)
		detail = append(detail, d)
	}
	if want.Failure != "" || got.Failure != "" {
		if want.Failure != got.Failure {
			add(fmt.Sprintf("no answer [%s]/[%s]", want.Failure, got.Failure),
				fmt.Sprintf("no answer: dnsmasq [%s], frontdesk [%s]", want.Failure, got.Failure))
		}
		return finish(sig, detail)
	}
	if want.Rcode != got.Rcode {
		add("rcode "+want.Rcode+"/"+got.Rcode, "rcode: dnsmasq "+want.Rcode+", frontdesk "+got.Rcode)
	}
	if want.Flags != got.Flags {
		add("flags ["+want.Flags+"]/["+got.Flags+"]", "flags: dnsmasq ["+want.Flags+"], frontdesk ["+got.Flags+"]")
	}
	if want.OPT != got.OPT {
		add("opt "+optShape(want.OPT)+"/"+optShape(got.OPT), "OPT: dnsmasq "+want.OPT+", frontdesk "+got.OPT)
	}
	for i, name := range sectionNames {
		w, g := want.Sections[i], got.Sections[i]
		if !slices.Equal(w, g) {
			shape := "[" + strings.Join(want.Types[i], ",") + "]/[" + strings.Join(got.Types[i], ",") + "]"
			switch {
			case caseOnly(w, g) && !slices.ContainsFunc(want.Types[i], caseSensitiveData):
				shape = "case [" + strings.Join(want.Types[i], ",") + "]"
			case slices.Equal(want.Types[i], got.Types[i]):
				shape = "records [" + strings.Join(want.Types[i], ",") + "]"
			}
			add(name+" "+shape, fmt.Sprintf("%s:\n    dnsmasq:   %q\n    frontdesk: %q", name, w, g))
			continue
		}
		for j := range want.TTLs[i] {
			a, b := int64(want.TTLs[i][j]), int64(got.TTLs[i][j])
			if a-b > 1 || b-a > 1 {
				add(name+" ttl", fmt.Sprintf("%s TTL of %s: dnsmasq %d, frontdesk %d", name, w[j], a, b))
				break
			}
		}
	}
	if want.Upstream != got.Upstream {
		rel := "more"
		if got.Upstream < want.Upstream {
			rel = "fewer"
		}
		add("upstream "+rel, fmt.Sprintf("upstream queries: dnsmasq %d, frontdesk %d", want.Upstream, got.Upstream))
	}
	return finish(sig, detail)
}

func finish(sig, detail []string) *Difference {
	if len(sig) == 0 {
		return nil
	}
	return &Difference{Signature: strings.Join(sig, "; "), Detail: strings.Join(detail, "\n")}
}

// optShape is an OPT record without its option payloads: presence, size, DO
// and the option codes.
func optShape(opt string) string {
	if opt == "no-opt" {
		return opt
	}
	head, rest, _ := strings.Cut(opt, " [")
	var codes []string
	for _, o := range strings.Split(strings.TrimSuffix(rest, "])"), ", ") {
		if c, _, ok := strings.Cut(o, ":"); ok {
			codes = append(codes, c)
		}
	}
	return head + " codes=" + strings.Join(codes, ",") + ")"
}

// caseOnly reports whether two sections differ only in the case of their
// letters: the spelling of names, which compare without case (RFC 4343).
func caseOnly(w, g []string) bool {
	if len(w) != len(g) {
		return false
	}
	lw, lg := make([]string, len(w)), make([]string, len(g))
	for i := range w {
		lw[i], lg[i] = strings.ToLower(w[i]), strings.ToLower(g[i])
	}
	slices.Sort(lw)
	slices.Sort(lg)
	return slices.Equal(lw, lg)
}

// caseSensitiveData reports whether records of type t carry data whose
// case matters (text, not names or addresses).
func caseSensitiveData(t string) bool {
	switch t {
	case "A", "AAAA", "CNAME", "MX", "SRV", "PTR", "NS", "SOA":
		return false
	}
	return true
}
