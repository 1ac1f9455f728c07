// Package dnsmasq is the Frontdesk `dnsmasq` app: a DNS server on
// github.com/miekg/dns that reads dnsmasq's own configuration language and
// answers like dnsmasq 2.90 for the same configuration.
//
// The layers, in the order a configuration goes through them: internal/conf
// parses the lines into a Config (its option table names every option and
// its parse function); the localStore and the resolver answer questions from it
// (resolver.go, store.go, cache.go, forward.go); server.go and udp.go read
// and write the wire.
//
// What the resolver uses but holds no answer logic lives in packages of
// its own under internal/, each importing down, never this package:
//
//	internal/conf       the configuration: option table, parsing, Config
//	internal/exchange   one query to one upstream server (UDP, TCP, shared ports)
//	internal/dnssec     DNSSEC validation of forwarded answers
//	internal/netfilter  nfnetlink: ipset, nftset, conntrack marks
//	internal/pcap       the dumpfile
//	internal/netutil    socket options, packet info, the TCP connection limit
//	internal/dnstest    what the packages' tests share
//
// exchange imports conf, pcap and netutil; dnssec and netfilter import
// conf; pcap, netutil and dnstest import nothing of the app.
package dnsmasq

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/dnssec"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/pcap"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the `dnsmasq` app. Its configuration is a list of dnsmasq options,
// each exactly as in dnsmasq.conf.
type App struct {
	// Lines are the dnsmasq options, in order, each with the file and line
	// it came from, for example {"text": "address=/myapp.local/127.0.0.1"}.
	// conf-file= and conf-dir= include dnsmasq configuration files; relative
	// paths are relative to Frontdesk's working directory, as dnsmasq's are
	// relative to its own.
	Lines []Line `json:"lines,omitempty"`

	// UpstreamTimeout is how long to wait for one upstream server before
	// trying the next one. Default: 2s.
	UpstreamTimeout caddy.Duration `json:"upstream_timeout,omitempty"`

	// EtcHosts is the system hosts file read unless no-hosts is given.
	// Default: /etc/hosts.
	EtcHosts string `json:"etc_hosts,omitempty"`

	// ResolvConf is the resolv-file used when neither no-resolv nor
	// resolv-file is given. Default: /etc/resolv.conf.
	ResolvConf string `json:"resolv_conf,omitempty"`

	// SiteRecords, when set, answers A/AAAA for the site names of the same
	// configuration (Frontdesk's extension; Caddyfile: `site_records
	// [<address>...]` inside the dnsmasq block).
	SiteRecords *SiteRecords `json:"site_records,omitempty"`

	cfg      *conf.Config
	resolver *resolver
	addrs    []string
	servers  []*sharedServer
	previous []*resolver // what each socket served before Start
	log      *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "dnsmasq",
		New: func() caddy.Module { return new(App) },
	}
}

// state lives across config reloads: the cache and the counters.
var state = struct {
	once  sync.Once
	cache *answerCache
	stats *stats
}{}

func sharedState() (*answerCache, *stats) {
	state.once.Do(func() {
		state.cache = newCache(150)
		state.stats = &stats{}
	})
	return state.cache, state.stats
}

// Provision parses the options, loads the hosts files and builds the
// resolver and, unless port=0, what serving on the wire needs.
func (a *App) Provision(ctx caddy.Context) error {
	a.log = ctx.Logger()
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("dnsmasq: registering metrics: %w", err)
	}
	cfg, err := ParseLines(a.Lines)
	if err != nil {
		return err
	}
	a.cfg = cfg
	a.warnIgnored(cfg)
	hosts, err := a.hostEntries(ctx, cfg)
	if err != nil {
		return err
	}
	dropUnusableSources(cfg, a.log)
	// Never forward to ourselves: a server= or resolv-file nameserver
	// that is one of our own listening addresses is dropped.
	var listen []string
	var self selfAddrs
	if cfg.Port != 0 {
		if listen, err = listenAddresses(cfg); err != nil {
			return fmt.Errorf("dnsmasq: %w", err)
		}
		self = newSelfAddrs(listen, cfg.Port)
		dropSelfServers(cfg, self, a.log)
	}
	defaults := a.defaultServers(cfg, self)
	r, err := a.newResolver(cfg, hosts, defaults)
	if err != nil {
		return err
	}
	a.resolver = r
	if cfg.Port == 0 {
		// port=0: no DNS at all (the admin API still works).
		return nil
	}
	return a.provisionServing(cfg, defaults, listen)
}

// warnIgnored logs the lines Frontdesk reads but does not act on.
func (a *App) warnIgnored(cfg *conf.Config) {
	if len(cfg.Ignored) > 0 {
		a.log.Warn("ignoring DHCP, TFTP and router-advertisement options (Frontdesk serves DNS only)", zap.Strings("lines", lineNames(cfg.Ignored)))
	}
	if len(cfg.ControlPlane) > 0 {
		a.log.Warn("ignoring D-Bus/ubus control options: Frontdesk's admin API (/dnsmasq/... on the admin endpoint) replaces them",
			zap.Strings("lines", lineNames(cfg.ControlPlane)))
	}
}

// hostEntries are the entries of the hosts files (EtcHosts unless
// no-hosts, addn-hosts, hostsdir), then the site records. A hosts file
// that cannot be read is logged and skipped.
func (a *App) hostEntries(ctx caddy.Context, cfg *conf.Config) ([]conf.HostEntry, error) {
	etcHosts := cmp.Or(a.EtcHosts, "/etc/hosts")
	hosts := loadHosts(cfg, etcHosts, func(path string, err error) {
		a.log.Error("failed to load names from hosts file", zap.String("file", path), zap.Error(conf.UnwrapPathErr(err)))
	})
	sites, err := a.siteHostEntries(ctx)
	if err != nil {
		return nil, fmt.Errorf("dnsmasq: %w", err)
	}
	return append(hosts, sites...), nil
}

// defaultServers are the servers for names no server=/domain/ rule
// covers: the plain server= lines, then, unless no-resolv, the
// nameservers of the resolv-files (ResolvConf when there is none) that
// are not one of our own addresses.
func (a *App) defaultServers(cfg *conf.Config, self selfAddrs) []conf.Upstream {
	defaults := append([]conf.Upstream{}, cfg.Servers...)
	if cfg.NoResolv {
		return defaults
	}
	files := cfg.ResolvFiles
	if len(files) == 0 {
		files = []string{cmp.Or(a.ResolvConf, "/etc/resolv.conf")}
	}
	for _, f := range files {
		ups, err := readResolvFile(f)
		if err != nil {
			a.log.Warn("cannot read resolv-file", zap.String("file", f), zap.Error(err))
			continue
		}
		defaults = append(defaults, self.dropSelf(ups, "resolv-file "+f, a.log)...)
	}
	return defaults
}

// newResolver builds the resolver of the configuration on the cache and
// counters shared across reloads.
func (a *App) newResolver(cfg *conf.Config, hosts []conf.HostEntry, defaults []conf.Upstream) (*resolver, error) {
	cache, st := sharedState()
	cache.SetSize(cfg.CacheSize)
	var debug *zap.Logger
	if cfg.LogDebug {
		debug = a.log // entries show when Caddy's log level is DEBUG
	}
	store := newStore(cfg, hosts)
	var localNets map[netip.Addr]netip.Prefix
	if len(cfg.IfaceNames) > 0 || cfg.Localise {
		ifs, err := systemIfaces()
		if err != nil {
			return nil, fmt.Errorf("dnsmasq: listing interfaces for interface-name, dynamic-host or localise-queries: %w", err)
		}
		store.addIfaceNames(resolveIfaceNames(cfg.IfaceNames, ifs))
		localNets = localNetsOf(ifs)
	}
	return &resolver{
		cfg:       cfg,
		store:     store,
		cache:     cache,
		fwd:       a.newForwarder(cfg, debug),
		defaults:  defaults,
		log:       a.log,
		debug:     debug,
		stats:     st,
		localNets: localNets,
	}, nil
}

// newForwarder is the upstream side of the resolver: server order,
// dns-forward-max, and the client's timeout, ports and retries.
func (a *App) newForwarder(cfg *conf.Config, debug *zap.Logger) *forwarder {
	timeout := time.Duration(a.UpstreamTimeout)
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &forwarder{
		strict: cfg.StrictOrder,
		all:    cfg.AllServers,
		slots:  make(chan struct{}, cfg.ForwardMax),
		Client: exchange.Client{
			Timeout: timeout, MinPort: cfg.MinPort, MaxPort: cfg.MaxPort, Ignore: cfg.IgnoreAddrs, Debug: debug,
			PortLimit: cfg.PortLimit, FastRetry: cfg.FastRetry, FastRetryFor: cfg.FastRetryFor, Observe: observeUpstream,
		},
	}
}

// provisionServing sets up what answering on the wire adds to the
// resolver (auth-server data, DNSSEC validation, loop detection) and the
// addresses to listen on: listen, then the auth-server addresses.
func (a *App) provisionServing(cfg *conf.Config, defaults []conf.Upstream, listen []string) error {
	var ifs []systemIface
	if len(cfg.Auth.Ifaces) > 0 {
		var err error
		if ifs, err = systemIfaces(); err != nil {
			return fmt.Errorf("dnsmasq: listing interfaces for auth-server: %w", err)
		}
	}
	a.resolver.auth = newAuthData(cfg, a.resolver.store, ifs)
	if cfg.DNSSEC.Validate {
		a.resolver.validator = dnssec.New(&cfg.DNSSEC, a.resolver.fwd.exchange, uint16(cfg.EDNSPacketMax), a.resolver.serversFor, a.log)
	}
	if cfg.LoopDetect {
		a.resolver.loop = newLoopDetector(defaults)
	}
	if a.resolver.auth != nil {
		// auth-server addresses are served even when listen-address and
		// interface do not name them, as dnsmasq does.
		for _, ad := range authListen(&cfg.Auth, ifs) {
			if s := ad.String(); !slices.Contains(listen, s) {
				listen = append(listen, s)
			}
		}
	}
	for _, l := range listen {
		a.addrs = append(a.addrs, net.JoinHostPort(l, strconv.Itoa(cfg.Port)))
	}
	return nil
}

// lineNames are "file:line text" of each line, for log entries.
func lineNames(ls []Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = fmt.Sprintf("%s:%d %s", l.File, l.Line, l.Text)
	}
	return out
}

// readResolvFile reads the nameserver lines of a resolv.conf file.
func readResolvFile(path string) ([]conf.Upstream, error) {
	var out []conf.Upstream
	err := eachLine(path, func(line string) bool {
		fs := strings.Fields(line)
		if len(fs) >= 2 && fs[0] == "nameserver" {
			if u, err := conf.ParseUpstream(fs[1]); err == nil {
				out = append(out, u)
			}
		}
		return true
	})
	return out, err
}

// Validate checks the provisioned config.
func (a *App) Validate() error {
	if a.cfg == nil {
		return errors.New("dnsmasq: not provisioned")
	}
	return nil
}

// Start binds (or takes over) the listen addresses and starts answering.
func (a *App) Start() error {
	if a.cfg.DumpFile != "" {
		// Opened here, not in Provision, so that validating a
		// configuration writes no file.
		d, err := pcap.Open(a.cfg.DumpFile, a.cfg.DumpMask, a.cfg.EDNSPacketMax+200)
		if err != nil {
			return fmt.Errorf("dnsmasq: %w", err)
		}
		a.resolver.dump, a.resolver.fwd.Dump = d, d
	}
	if a.cfg.HasQueryPort {
		sp, err := exchange.AcquireQueryPort(a.cfg.QueryPort)
		if err != nil {
			_ = a.resolver.dump.Close()
			return fmt.Errorf("dnsmasq: query-port=%d: %w", a.cfg.QueryPort, err)
		}
		a.resolver.fwd.QueryPort = sp
	}
	if err := a.acquireSourcePorts(); err != nil {
		a.release()
		_ = a.resolver.dump.Close()
		return fmt.Errorf("dnsmasq: %w", err)
	}
	for _, addr := range a.addrs {
		s, err := listenShared(addr)
		if err != nil {
			// Give the sockets taken over so far back to the running config.
			for i, prev := range a.previous {
				a.servers[i].h.current.CompareAndSwap(a.resolver, prev)
			}
			a.release()
			_ = a.resolver.dump.Close()
			return fmt.Errorf("dnsmasq: %w", err)
		}
		a.servers = append(a.servers, s)
		a.previous = append(a.previous, s.h.current.Swap(a.resolver))
	}
	if len(a.addrs) == 0 {
		a.log.Info("dnsmasq: DNS disabled (port=0); the admin API still answers")
		return nil
	}
	if a.cfg.LoopDetect {
		a.resolver.loop.probe(&a.resolver.fwd.Client, a.log)
	}
	a.log.Info("dnsmasq serving", zap.Strings("addresses", a.addrs))
	dash.resolver.Store(a.resolver)
	return nil
}

func (a *App) release() {
	// A successor that already took a socket over keeps it open; the last
	// user closes it.
	for i := range a.servers {
		_, _ = listeners.Delete(a.addrs[i])
	}
	if a.resolver != nil && a.resolver.fwd.QueryPort != nil {
		exchange.ReleaseQueryPort(a.cfg.QueryPort)
		a.resolver.fwd.QueryPort = nil
	}
	if a.resolver != nil {
		for u := range a.resolver.fwd.SourcePorts {
			exchange.ReleaseSourcePort(u)
		}
		a.resolver.fwd.SourcePorts = nil
	}
	a.servers, a.previous = nil, nil
}

// Stop lets go of the listen addresses; sockets a newer config also uses
// stay open.
func (a *App) Stop() error {
	dash.resolver.CompareAndSwap(a.resolver, nil)
	a.release()
	if a.resolver != nil {
		return a.resolver.dump.Close()
	}
	return nil
}

// Cleanup releases what Provision acquired.
func (a *App) Cleanup() error { return nil }

var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
