package dnsmasq

import (
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// liveRecords are records added through the admin API. They live in the
// process, survive config reloads, and are answered before every other
// source, authoritatively, with their own TTL.
var liveRecords = &recordSet{byName: map[string][]dns.RR{}}

type recordSet struct {
	mu     sync.RWMutex
	byName map[string][]dns.RR // lower-case FQDN
}

func rrKey(rr dns.RR) string {
	c := dns.Copy(rr)
	c.Header().Ttl = 0
	c.Header().Name = strings.ToLower(c.Header().Name)
	return c.String()
}

// add stores rrs, replacing equal records (same name, type and data).
func (s *recordSet) add(rrs []dns.RR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rr := range rrs {
		name := strings.ToLower(rr.Header().Name)
		list := s.byName[name]
		k := rrKey(rr)
		replaced := false
		for i, x := range list {
			if rrKey(x) == k {
				list[i] = dns.Copy(rr)
				replaced = true
			}
		}
		if !replaced {
			list = append(list, dns.Copy(rr))
		}
		s.byName[name] = list
	}
}

// remove deletes records equal to rrs (TTL ignored) and returns how many.
func (s *recordSet) remove(rrs []dns.RR) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, rr := range rrs {
		name := strings.ToLower(rr.Header().Name)
		k := rrKey(rr)
		var keep []dns.RR
		for _, x := range s.byName[name] {
			if rrKey(x) == k {
				n++
				continue
			}
			keep = append(keep, x)
		}
		if len(keep) == 0 {
			delete(s.byName, name)
		} else {
			s.byName[name] = keep
		}
	}
	return n
}

// lookup returns copies of the records of name for qtype (ANY: all), owned
// by owner.
func (s *recordSet) lookup(name, owner string, qtype uint16) []dns.RR {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []dns.RR
	for _, rr := range s.byName[name] {
		t := rr.Header().Rrtype
		if qtype == dns.TypeANY || t == qtype || t == dns.TypeCNAME {
			c := dns.Copy(rr)
			c.Header().Name = owner
			out = append(out, c)
		}
	}
	return out
}

func (s *recordSet) list() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, rrs := range s.byName {
		for _, rr := range rrs {
			out = append(out, rr.String())
		}
	}
	sort.Strings(out)
	return out
}
