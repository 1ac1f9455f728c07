package dnsdiff

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq"
)

// acceptConf is the file name the acceptance check writes its lines to.
const acceptConf = "main.conf"

// Verdict is a side's judgement of a configuration line: "" when accepted,
// else the error message.
type Verdict = string

// Acceptor runs `dnsmasq --test` and `frontdesk validate` on configuration
// files in dir.
type Acceptor struct {
	Dir       string
	Frontdesk string // the frontdesk binary
	Runs      [2]int // processes run per side
}

// NewAcceptor prepares dir: the Caddyfile that includes main.conf and the
// (empty) hosts file the generated lines may name.
func NewAcceptor(dir, frontdeskBin string) (*Acceptor, error) {
	for _, side := range []Side{Dnsmasq, Frontdesk} {
		d := filepath.Join(dir, side.String())
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(d, "hosts1"), []byte("10.0.0.1 h1.lan\n"), 0o644); err != nil {
			return nil, err
		}
	}
	cf := "{\n\tdnsmasq {\n\t\tconf-file=" + acceptConf + "\n\t\tport=1053\n\t}\n}\n"
	if err := os.WriteFile(filepath.Join(dir, Frontdesk.String(), "Caddyfile"), []byte(cf), 0o644); err != nil {
		return nil, err
	}
	return &Acceptor{Dir: dir, Frontdesk: frontdeskBin}, nil
}

// check runs one side on lines; it returns "" or the error output.
func (a *Acceptor) check(side Side, lines []string) Verdict {
	dir := filepath.Join(a.Dir, side.String())
	rep := strings.NewReplacer(PlaceUpstream, "127.0.0.1#53", PlaceDir, dir)
	body := rep.Replace(strings.Join(lines, "\n")) + "\n"
	if err := os.WriteFile(filepath.Join(dir, acceptConf), []byte(body), 0o644); err != nil {
		return err.Error()
	}
	var cmd *exec.Cmd
	if side == Dnsmasq {
		cmd = exec.Command(harness.DnsmasqBin(), "--test", "-C", acceptConf)
	} else {
		cmd = exec.Command(a.Frontdesk, "validate", "--config", "Caddyfile", "--adapter", "caddyfile")
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	}
	cmd.Dir = dir
	a.Runs[side]++
	out, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	msg := strings.TrimSpace(string(out))
	if side == Frontdesk {
		msg = frontdeskError(msg)
	}
	if msg == "" {
		msg = err.Error()
	}
	return msg
}

// frontdeskError is the message of the error line of `frontdesk validate`'s
// log output.
func frontdeskError(out string) string {
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if m := regexp.MustCompile(`"msg":"(.*?)"[,}]`).FindStringSubmatch(lines[i]); m != nil && strings.Contains(lines[i], `"error"`) {
			return strings.ReplaceAll(m[1], `\"`, `"`)
		}
	}
	return lastNonEmpty(lines)
}

func lastNonEmpty(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			return s
		}
	}
	return ""
}

var lineRef = regexp.MustCompile(`at line (\d+) of ` + regexp.QuoteMeta(acceptConf))

// Verdicts judges each line on one side, batching: a file of all pending
// lines is checked; the line an error names is refused, the lines before it
// accepted, and the rest checked again. An error without a line number is
// found by bisecting on the prefix that fails.
func (a *Acceptor) Verdicts(side Side, lines []string) []Verdict {
	out := make([]Verdict, len(lines))
	for start := 0; start < len(lines); {
		pending := lines[start:]
		v := a.check(side, pending)
		if v == "" {
			break
		}
		bad := -1
		if m := lineRef.FindStringSubmatch(v); m != nil {
			k, _ := strconv.Atoi(m[1])
			bad = lineAt(pending, k)
		}
		if bad < 0 {
			// The shortest failing prefix ends with the line at fault.
			lo, hi := 1, len(pending)
			for lo < hi {
				mid := (lo + hi) / 2
				if a.check(side, pending[:mid]) != "" {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			bad = lo - 1
			v = a.check(side, pending[bad:bad+1])
			if v == "" {
				v = "refused with the lines before it"
			}
		}
		out[start+bad] = v
		start += bad + 1
	}
	return out
}

// lineAt is the index of the line of lines that holds dnsmasq's line
// number k, counted as dnsmasq counts them (each piece of a long line is a
// line), or -1.
func lineAt(lines []string, k int) int {
	n := 0
	for i, l := range lines {
		n += (len(l) + 1 + dnsmasq.FilePieceMax - 1) / dnsmasq.FilePieceMax // its pieces, its newline included
		if k >= 1 && k <= n {
			return i
		}
	}
	return -1
}

// genLine is a generated configuration line and how it was made.
type genLine struct {
	text, option, kind string
}

// acceptLines generates n configuration lines: valid ones from the
// configuration grammar, the same with the edits real files carry (spaces,
// comments, trailing commas, empty fields), and malformed ones.
func (g *Generator) acceptLines(n int) []genLine {
	var out []genLine
	for len(out) < n {
		g.bases = g.subset(poolBases, 2)
		g.labels = g.subset(poolLabels, 3)
		g.names = map[string]bool{}
		o := g.pickOption()
		ls, file := o.gen(g)
		text := ls[0]
		if file != nil {
			text = "addn-hosts=" + PlaceDir + "/hosts1"
		}
		name, val, hasVal := strings.Cut(text, "=")
		kind := "valid"
		switch g.r.IntN(20) {
		case 0:
			text, kind = name+" = "+val, "spaces-around-equals"
		case 1:
			text, kind = "  "+text+"  ", "leading-trailing-space"
		case 2:
			text, kind = text+" # comment", "trailing-comment"
		case 3:
			text, kind = text+",", "trailing-comma"
		case 4:
			text, kind = name+"="+strings.ReplaceAll(val, ",", " , "), "spaces-around-commas"
		case 5:
			f := strings.Split(val, ",")
			f[g.r.IntN(len(f))] = ""
			text, kind = name+"="+strings.Join(f, ","), "empty-field"
		case 6:
			text, kind = name+"=", "empty-value"
		case 7:
			bad := g.pick([]string{"1.2.3.256", "10.0.0", "::g", "1.2.3.4.5", "fd00:::1", "-1", "99999999999", "abc", "fe80::1%lo"})
			f := strings.Split(val, ",")
			f[g.r.IntN(len(f))] = bad
			text, kind = name+"="+strings.Join(f, ","), "bad-value"
		case 8:
			text, kind = g.pick([]string{"frobnicate=1", "no-such-option", "addres=/a/1.2.3.4", "server-x=1.2.3.4"}), "unknown-option"
			name = strings.SplitN(text, "=", 2)[0]
		case 9:
			text, kind = g.pick([]string{"", "# just a comment", "   ", "\t# indented comment"}), "blank-or-comment"
			name = "(none)"
		case 10:
			if hasVal {
				text, kind = name+"="+strings.ReplaceAll(val, ",", ",,"), "doubled-commas"
			}
		case 11:
			text, kind = strings.ReplaceAll(text, "=", "\t=\t"), "tabs"
		default:
			text, kind = g.fileEdit(text, name, val, hasVal)
		}
		out = append(out, genLine{text, name, kind})
	}
	return out
}

// fileEdit is one of the forms a line takes in a file written by hand or
// by another program: a Windows line end, a value or field in double
// quotes (with an escape), a line longer than dnsmasq's 1,024-byte read
// (a long comment, long trailing blanks), the option's name in capitals,
// or written as on the command line ("--name"), a character names rarely
// hold somewhere in the value; or the line as generated.
func (g *Generator) fileEdit(text, name, val string, hasVal bool) (string, string) {
	switch g.r.IntN(9) {
	case 0:
		return text + "\r", "crlf"
	case 1:
		if hasVal && val != "" {
			f := strings.Split(val, ",")
			i := g.r.IntN(len(f))
			f[i] = `"` + strings.ReplaceAll(f[i], `\`, `\\`) + `"`
			return name + "=" + strings.Join(f, ","), "quoted-field"
		}
	case 2:
		if hasVal {
			return name + `="` + val + `\t"`, "quoted-escape"
		}
	case 3:
		return text + " # " + strings.Repeat("x", dnsmasq.FilePieceMax+g.r.IntN(200)), "long-comment"
	case 4:
		return text + strings.Repeat(" ", dnsmasq.FilePieceMax+g.r.IntN(200)), "long-blank"
	case 5:
		return strings.ToUpper(name) + strings.TrimPrefix(text, name), "upper-case-name"
	case 6:
		return "--" + text, "dashes"
	case 7:
		if hasVal && val != "" {
			i := g.r.IntN(len(val))
			return name + "=" + val[:i] + g.pick([]string{" ", "/", "#", "_", "*", `\`}) + val[i:], "odd-character"
		}
	}
	return text, "valid"
}

// AcceptReport is what an acceptance run found.
type AcceptReport struct {
	Seed    uint64
	Lines   int
	Agree   int
	Runs    [2]int
	Classes map[string]*Class
	Elapsed time.Duration

	open map[string]string // signatures of open acceptance cases
}

// Unexplained is how many lines disagree without an allowed entry or an
// open regression case.
func (r *AcceptReport) Unexplained() int { return unexplained(r.Classes) }

// KnownOpen is how many disagreeing lines open regression cases cover.
func (r *AcceptReport) KnownOpen() int { return knownOpen(r.Classes) }

// RunAcceptance generates n lines from seed, judges them with both programs
// in dir, and writes one regression case per new class into regressDir (none
// when empty); open maps the signatures of known, not yet fixed
// disagreements to their case (see OpenSignatures).
func RunAcceptance(dir, frontdeskBin string, seed uint64, n int, regressDir string, open map[string]string) (*AcceptReport, error) {
	a, err := NewAcceptor(dir, frontdeskBin)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	gl := NewGenerator(seed).acceptLines(n)
	rep := &AcceptReport{Seed: seed, Lines: n, Classes: map[string]*Class{}, open: open}
	const batch = 500
	for b := 0; b < len(gl); b += batch {
		part := gl[b:min(b+batch, len(gl))]
		texts := make([]string, len(part))
		for i, l := range part {
			texts[i] = l.text
		}
		var v [2][]Verdict
		var wg sync.WaitGroup
		for side := range v {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v[side] = a.Verdicts(Side(side), texts)
			}()
		}
		wg.Wait()
		for i, l := range part {
			dm, fd := v[Dnsmasq][i], v[Frontdesk][i]
			if (dm == "") == (fd == "") {
				rep.Agree++
				continue
			}
			// Alone, to rule out an effect of the lines around it.
			one := []string{l.text}
			if dm, fd = a.check(Dnsmasq, one), a.check(Frontdesk, one); (dm == "") == (fd == "") {
				rep.Agree++
				continue
			}
			a.note(rep, l, dm, fd, regressDir)
		}
	}
	rep.Runs = a.Runs
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// AcceptSignature names an acceptance difference: who refused, the option,
// how the line was made.
func AcceptSignature(dm, fd Verdict, option, kind string) string {
	v := func(s Verdict) string {
		if s == "" {
			return "accepts"
		}
		return "refuses"
	}
	return fmt.Sprintf("accept dnsmasq %s, frontdesk %s: %s (%s)", v(dm), v(fd), option, kind)
}

// AcceptCase is the regression case of a line: the line, no queries, and
// dnsmasq's verdict as Expect.
func AcceptCase(sig, line string, dm Verdict) *Case {
	exp := "accepted"
	if dm != "" {
		exp = "refused"
	}
	return &Case{Signature: sig, Config: []string{line}, Expect: []string{exp}}
}

func (a *Acceptor) note(rep *AcceptReport, l genLine, dm, fd Verdict, regressDir string) {
	sig := AcceptSignature(dm, fd, l.option, l.kind)
	cl := rep.Classes[sig]
	if cl != nil {
		cl.Count++
		return
	}
	c := AcceptCase(sig, l.text, dm)
	c.Note = []string{fmt.Sprintf("found by dnsdiff -seed %d -lines %d", rep.Seed, rep.Lines)}
	cl = &Class{Signature: sig, Count: 1, Example: c, Detail: "dnsmasq: " + orOK(dm) + "\nfrontdesk: " + orOK(fd)}
	cl.Allowed = allowedFor(AllowedAcceptance, c, sig)
	cl.Open = rep.open[sig]
	if regressDir != "" && cl.Allowed == nil && cl.Open == "" {
		if p, err := WriteCase(regressDir, c); err == nil {
			cl.File = p
		}
	}
	rep.Classes[sig] = cl
}

// Replay checks an acceptance case: both verdicts must agree (or differ as
// a documented entry of AllowedAcceptance allows), and dnsmasq's must still
// be the recorded one. It returns a description of what is wrong,
// or "".
func (a *Acceptor) Replay(c *Case) string {
	dm, fd := a.check(Dnsmasq, c.Config), a.check(Frontdesk, c.Config)
	got := "accepted"
	if dm != "" {
		got = "refused"
	}
	var errs []string
	if len(c.Expect) > 0 && c.Expect[0] != got {
		errs = append(errs, "dnsmasq now "+got+" the line, the case says "+c.Expect[0])
	}
	if (dm == "") != (fd == "") && allowedFor(AllowedAcceptance, c, c.Signature) == nil {
		errs = append(errs, "dnsmasq: "+orOK(dm)+"; frontdesk: "+orOK(fd))
	}
	return strings.Join(errs, "\n")
}

func orOK(v Verdict) string {
	if v == "" {
		return "accepted"
	}
	return v
}

// Print writes the acceptance report.
func (r *AcceptReport) Print(w io.Writer) {
	fmt.Fprintf(w, "\nacceptance: seed %d, %d lines, %d agree, %d disagree (unexplained %d, open %d) in %d classes; %d dnsmasq and %d frontdesk runs, %s\n",
		r.Seed, r.Lines, r.Agree, r.Lines-r.Agree, r.Unexplained(), r.KnownOpen(), len(r.Classes), r.Runs[0], r.Runs[1], r.Elapsed.Round(time.Second))
	classes := make([]*Class, 0, len(r.Classes))
	for _, c := range r.Classes {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool { return classes[i].Signature < classes[j].Signature })
	for _, c := range classes {
		fmt.Fprintf(w, "\n== %d× %s [%s]\n   line: %q\n%s", c.Count, c.Signature, c.status(), c.Example.Config[0], indentText(c.Detail))
	}
}
