package dnsmasq

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"go.uber.org/zap"
)

// TestOddOwnerAnswers: a record whose owner dnsmasq accepts with a space,
// a slash or a quoted comma in it answers the question for that name, as
// miekg/dns writes it when it unpacks the question.
func TestOddOwnerAnswers(t *testing.T) {
	c, err := ParseLines([]Line{{Text: "no-resolv"}, {Text: "txt-record=a b.test,one"}, {Text: "mx-host=x/y.test,m.test,5"},
		{Text: `txt-record="c,d.test",two`}})
	if err != nil {
		t.Fatal(err)
	}
	r := &resolver{cfg: c, store: newStore(c, nil), cache: newCache(10), log: zap.NewNop(), stats: &stats{}}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{`a\ b.test.`, dns.TypeTXT}, {`A\ B.test.`, dns.TypeTXT}, {"x/y.test.", dns.TypeMX}, {"c,d.test.", dns.TypeTXT}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		a := r.Resolve(context.Background(), m, false)
		if len(a.answer) != 1 || a.answer[0].Header().Rrtype != q.qtype {
			t.Errorf("%s %s: %+v", q.name, dns.TypeToString[q.qtype], a)
		}
	}
}

// TestUnpackableAnswerServfails: an answer the wire cannot carry (a
// character-string over 255 bytes) goes out as SERVFAIL for the question,
// not as nothing.
func TestUnpackableAnswerServfails(t *testing.T) {
	req := new(dns.Msg)
	req.SetQuestion("x.test.", dns.TypeTXT)
	req.SetEdns0(1232, false)
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: "x.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{strings.Repeat("k", 300)}}}
	m.Extra = []dns.RR{req.IsEdns0()}
	b, err := packReply(m, make([]byte, 512))
	if err != nil {
		t.Fatal(err)
	}
	var got dns.Msg
	if err := got.Unpack(b); err != nil {
		t.Fatal(err)
	}
	if got.Rcode != dns.RcodeServerFailure || got.Id != req.Id || len(got.Answer) != 0 || got.Authoritative ||
		len(got.Question) != 1 || got.IsEdns0() == nil {
		t.Errorf("reply %v", &got)
	}
}
