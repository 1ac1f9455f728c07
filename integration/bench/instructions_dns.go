package main

// The DNS instruction-count rounds (-instructions-dns): the Frontdesk DNS
// target of the DNS rounds (dns.go's configuration, the same upstream),
// with -dashboard its watched twin, and dnsmasq itself as a reference,
// each run under callgrind, in both DNS scenarios. dnsperf's q/s vary by
// 5–10% from round to round on a two-core VM; the instructions a query
// costs do not, so the watched / unwatched ratio holds to a few parts in a
// thousand.
//
// What it counts: user-space instructions of the server process only (not
// the kernel's socket work, not the upstream: every answer comes from local
// data or the cache), with GOGC=off and one P for Frontdesk, over
// -instr-requests UDP queries on one socket, eight at a time (see
// dnsInstrBurst), cycling through the scenario's names, after a warm-up of
// a tenth as many. The watched twin's dashboard
// data is polled right before and after each run (which keeps it watched
// and checks that its query log grew), not during it: the page's poll every
// 3 s costs nothing per query at the rounds' q/s, and would be most of the
// count at callgrind's pace.

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// dnsInstrEnv runs Frontdesk on one P: with more, the Ps left idle by
// one query at a time spin looking for work for as long as callgrind's
// pace lets them, and the count of the same run moves by ±10%.
const dnsInstrEnv = "GOMAXPROCS=1"

// dnsInstrTarget is one server in one scenario, run under callgrind.
type dnsInstrTarget struct {
	Scenario  dnsScenario
	Server    dnsServer // its PGrp is valgrind's PID (the wrapper execs it)
	Dashboard string    // the watched twin's admin API; "" for none
	DumpDir   string    // where callgrind writes its profile dumps
}

// name is the target's name in the report.
func (t dnsInstrTarget) name() string { return dnsInstrName(t.Scenario.Name, t.Server.Name) }

func dnsInstrName(scenario, server string) string { return scenario + ": " + server }

// dnsInstrRatios are the key figures of each scenario: the watched twin
// against Frontdesk (issue 15's target) and, as a reference without a
// target, Frontdesk against dnsmasq.
func dnsInstrRatios(scenarios []dnsScenario) []instrRatio {
	var rs []instrRatio
	for _, sc := range scenarios {
		rs = append(rs,
			instrRatio{dnsInstrName(sc.Name, watchedName(dnsFrontdesk)), dnsInstrName(sc.Name, dnsFrontdesk), dashboardTarget},
			instrRatio{dnsInstrName(sc.Name, dnsFrontdesk), dnsInstrName(sc.Name, dnsDnsmasq), 0})
	}
	return rs
}

// dnsInstructionsBench starts the upstream and the servers under callgrind,
// fills the caches, measures round after round and returns the report
// part.
func dnsInstructionsBench(ctx context.Context, c config, ps *procs, dir, bin string, t tools) (string, error) {
	dir = filepath.Join(dir, "instructions-dns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	wrapper, err := callgrindWrapper(dir, t.valgrind, bin, dnsInstrEnv)
	if err != nil {
		return "", err
	}
	upstream, upPort, err := startDNSUpstreamPort(ps, dir)
	if err != nil {
		return "", err
	}
	lines := dnsmasqLines(upPort)
	servers, err := startDNSInstrServers(c, ps, dir, wrapper, t.valgrind, lines)
	if err != nil {
		return "", err
	}
	scenarios := dnsScenarios()
	filled, err := fillDNSCaches(upstream, scenarios, servers)
	if err != nil {
		return "", err
	}
	var targets []dnsInstrTarget
	for _, p := range cross(scenarios, servers) {
		dumps := dir
		if p.b.Name == dnsDnsmasq {
			dumps = filepath.Join(dir, "dnsmasq")
		}
		targets = append(targets, dnsInstrTarget{Scenario: p.a, Server: p.b, Dashboard: p.b.Dashboard, DumpDir: dumps})
	}
	runs := newInstrRuns()
	err = interleave(c.rounds, targets, func(r int, tg dnsInstrTarget) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := instructionsPerQuery(ctx, tg, c.instrRequests, t.callgrindControl)
		if err != nil {
			return fmt.Errorf("round %d, %s: %w", r, tg.name(), err)
		}
		runs.add(r, tg.name(), "query", n)
		if up, err := upstreamCount(upstream); err != nil {
			return err
		} else if up != filled {
			return fmt.Errorf("round %d, %s: the upstream answered %d queries since the caches were filled", r, tg.name(), up-filled)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	var names []string
	for _, tg := range targets {
		names = append(names, tg.name())
	}
	return dnsInstrReport(c, lines, names, runs, dnsInstrRatios(scenarios)), nil
}

// startDNSInstrServers starts Frontdesk (and with -dashboard its watched
// twin first) through the callgrind wrapper, and dnsmasq under callgrind.
func startDNSInstrServers(c config, ps *procs, dir, wrapper, valgrind string, lines []string) ([]dnsServer, error) {
	frontdesks := []dnsFrontdeskSpec{{dnsFrontdesk, "frontdesk-dns", false}}
	if c.dashboard {
		frontdesks = append([]dnsFrontdeskSpec{{watchedName(dnsFrontdesk), "frontdesk-dns-dashboard", true}}, frontdesks...)
	}
	var servers []dnsServer
	for _, f := range frontdesks {
		s, err := startFrontdeskDNS(ps, wrapper, dir, f, lines)
		if err != nil {
			return nil, fmt.Errorf("%s under callgrind: %w", f.name, err)
		}
		servers = append(servers, s)
	}
	dm, err := startDnsmasqCallgrind(ps, dir, valgrind, lines)
	if err != nil {
		return nil, fmt.Errorf("%s under callgrind: %w", dnsDnsmasq, err)
	}
	servers = append(servers, dm)
	for _, s := range servers {
		step("%s under callgrind on %s (pid %d)", s.Name, s.addr(), s.PGrp)
	}
	return servers, nil
}

// startDnsmasqCallgrind runs dnsmasq with lines under callgrind, as
// harness.StartDnsmasq runs it.
func startDnsmasqCallgrind(ps *procs, dir, valgrind string, lines []string) (dnsServer, error) {
	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		return dnsServer{}, err
	}
	dir = filepath.Join(dir, "dnsmasq")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return dnsServer{}, err
	}
	conf := filepath.Join(dir, "dnsmasq.conf")
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return dnsServer{}, err
	}
	argv := append([]string{valgrind, "--tool=callgrind", "--callgrind-out-file=" + filepath.Join(dir, "callgrind.%p")},
		harness.DnsmasqArgv(dir, conf, port)...)
	p, err := harness.Start(dir, "dnsmasq-callgrind", nil, dir, argv...)
	if err != nil {
		return dnsServer{}, err
	}
	ps.add(p)
	s := dnsServer{Name: dnsDnsmasq, Port: port, PGrp: p.PID()}
	return s, p.WaitTCP(s.addr(), 30*time.Second)
}

// instructionsPerQuery polls the dashboard (watched twin), sends a warm-up,
// zeroes callgrind's counters, sends n queries, dumps the profile and
// returns the instructions executed per query; the twin's query log must
// have grown.
func instructionsPerQuery(ctx context.Context, tg dnsInstrTarget, n int, callgrindControl string) (instrCount, error) {
	var w *dashboardWatch
	if tg.Dashboard != "" {
		var err error
		if w, err = pollDashboard(tg.Dashboard); err != nil {
			return instrCount{}, err
		}
	}
	conn, err := dialDNS(tg.Server.addr())
	if err != nil {
		return instrCount{}, err
	}
	defer conn.Close()
	if err := queryN(conn, tg.Scenario.Names, max(n/10, 1)); err != nil {
		return instrCount{}, err
	}
	if err := callgrindZero(ctx, callgrindControl, tg.Server.PGrp); err != nil {
		return instrCount{}, err
	}
	if err := queryN(conn, tg.Scenario.Names, n); err != nil {
		return instrCount{}, err
	}
	dc, err := callgrindDump(ctx, callgrindControl, tg.DumpDir, tg.Server.PGrp)
	if err != nil {
		return instrCount{}, err
	}
	if w != nil {
		if last, err := w.poll(); err != nil {
			return instrCount{}, err
		} else if last.gathered() < w.first.gathered()+uint64(n) {
			return instrCount{}, fmt.Errorf("the dashboard on %s logged %d queries during the run, want at least %d: is it watched?",
				w.admin, last.gathered()-w.first.gathered(), n)
		}
	}
	return dc.per(n), nil
}

// dialDNS opens one UDP socket to addr for a run's queries.
func dialDNS(addr string) (*dns.Conn, error) {
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	return c.Dial(addr)
}

// dnsInstrBurst is how many queries queryN sends before it reads their
// answers: as many as the UDP server reads with one system call, so that
// each read finds a batch waiting as under dnsperf's load, and the
// scheduler's work of one worker parking for every query (which varies
// with callgrind's pace and the machine's load by ±5%) is shared by eight.
const dnsInstrBurst = 8

// queryN sends n A queries on conn, dnsInstrBurst at a time, cycling
// through names, and wants each answered with one A 127.0.0.1.
func queryN(conn *dns.Conn, names []string, n int) error {
	qs := make(map[uint16]*dns.Msg, dnsInstrBurst)
	for i := 0; i < n; {
		clear(qs)
		for ; len(qs) < dnsInstrBurst && i < n; i++ {
			q := new(dns.Msg)
			q.SetQuestion(dns.Fqdn(names[i%len(names)]), dns.TypeA)
			q.Id = uint16(i)
			qs[q.Id] = q
			if err := conn.WriteMsg(q); err != nil {
				return err
			}
		}
		for range len(qs) {
			r, err := conn.ReadMsg()
			if err != nil {
				return err
			}
			q := qs[r.Id]
			if q == nil {
				return fmt.Errorf("a reply with ID %d, not one of the queries sent", r.Id)
			}
			if err := checkAnswerA(q, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkAnswerA checks that r answers q with NOERROR and one A 127.0.0.1.
func checkAnswerA(q, r *dns.Msg) error {
	name := q.Question[0].Name
	switch {
	case len(r.Question) != 1 || r.Question[0] != q.Question[0]:
		return fmt.Errorf("%s A: reply to %v", name, r.Question)
	case r.Rcode != dns.RcodeSuccess:
		return fmt.Errorf("%s A: rcode %s", name, dns.RcodeToString[r.Rcode])
	case len(r.Answer) != 1:
		return fmt.Errorf("%s A: answer %v, want one A 127.0.0.1", name, r.Answer)
	}
	if a, ok := r.Answer[0].(*dns.A); !ok || !a.A.Equal(net.IPv4(127, 0, 0, 1)) {
		return fmt.Errorf("%s A: answer %v, want one A 127.0.0.1", name, r.Answer)
	}
	return nil
}

// dnsInstrReport renders the medians, the spread and the key ratios,
// first without the idle scheduler, then of all instructions.
func dnsInstrReport(c config, lines, names []string, runs instrRuns, ratios []instrRatio) string {
	var b strings.Builder
	b.WriteString("#### DNS: instructions per query (callgrind)\n\n")
	fmt.Fprintf(&b, "valgrind --tool=callgrind (GOGC=off and GOMAXPROCS=1 for Frontdesk), %d rounds interleaved, %d UDP queries on one socket per run, %d at a time "+
		"(cycling through the scenario's names, every answer checked) after %d to warm up; user-space instructions of the server process only "+
		"(the kernel's socket work is not counted; the upstream answered nothing during the runs). "+
		"The DNS rounds' configuration (`%s`); the watched twin's dashboard data is polled before and after each run, not during it. "+
		"Ratios are the base's count over the subject's, paired per round: below 1 means the subject costs more. "+
		"Frontdesk against dnsmasq compares instructions of Go and of C: only a rough figure (no target).\n\n",
		c.rounds, c.instrRequests, dnsInstrBurst, max(c.instrRequests/10, 1), strings.Join(lines, "`, `"))
	writeInstrSections(&b, "scenario: server", "query", names, runs, ratios)
	return b.String()
}
