package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// dashboardSites are the sites of the stack the dashboard test runs besides
// the DNS app: a cached site on a healthgate pool, and the dashboard on its
// own site.
const dashboardSites = `http://app.test:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	proxy_cache {
		storage memory {
			zone app_cache
			max_size 16m
		}
		x_cache_status on
	}
	reverse_proxy {
		dynamic healthgate app_pool {
			to {$APP1}
			to {$APP2}
			interval 200ms
			rise 1
		}
	}
}
http://status.test:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	frontdesk_dashboard /status {
		refresh 1s
	}
}
`

// dashboardBackend answers /healthz, /item/<n> (cacheable), /missing (404)
// and /boom (500).
func dashboardBackend(t *testing.T) string {
	t.Helper()
	return startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			w.Write([]byte("ok"))
		case strings.HasPrefix(r.URL.Path, "/item/"):
			w.Header().Set("Cache-Control", "max-age=300")
			w.Write([]byte("item " + r.URL.Path))
		case r.URL.Path == "/boom":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})).addr()
}

// dashboardTraffic sends HTTP requests to the cached site and DNS queries
// to the DNS app until stop is closed.
func dashboardTraffic(t *testing.T, httpAddr, dnsAddr string, stop chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	var failures atomic.Int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		paths := []string{"/item/1", "/item/1", "/item/2", "/item/3", "/missing", "/boom", "/item/1"}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("GET", "http://"+httpAddr+paths[i%len(paths)], nil)
			req.Host = "app.test"
			if res, err := client.Do(req); err == nil {
				res.Body.Close()
			} else {
				failures.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	go func() {
		defer wg.Done()
		c := &dns.Client{Timeout: 2 * time.Second}
		names := []string{"app.test.", "ads.test.", "fwd.test.", "fwd.test.", "app.test."}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m := new(dns.Msg)
			m.SetQuestion(names[i%len(names)], dns.TypeA)
			if _, _, err := c.Exchange(m, dnsAddr); err != nil {
				failures.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(func() {
		if n := failures.Load(); n > 0 {
			t.Logf("%d traffic requests failed", n)
		}
	})
	return &wg
}

// domFigures reads every [data-field] cell of the rows a selector names:
// row key (its data-pool/upstream/zone attribute) → field → text.
const domFiguresJS = `(() => {
	const out = {};
	for (const row of document.querySelectorAll("tr[data-upstream], tr[data-zone], tr[data-site]")) {
		const key = row.dataset.upstream ? row.dataset.pool + " " + row.dataset.upstream : row.dataset.zone || row.dataset.site;
		const f = out[key] = {};
		for (const c of row.querySelectorAll("[data-field]")) f[c.dataset.field] = c.textContent;
	}
	out.dns = {};
	for (const c of document.querySelectorAll("#dns-body dd[data-field]")) out.dns[c.dataset.field] = c.textContent;
	out.log = [...document.querySelectorAll("#query-log tbody tr")].map(r => r.textContent);
	out.topNames = [...document.querySelectorAll('[data-top="names"] [data-field="key"]')].map(c => c.textContent);
	out.servers = [...document.querySelectorAll('[data-top="servers"] [data-field="key"]')].map(c => c.textContent);
	out.topKeys = [...document.querySelectorAll('[data-top^="keys "] [data-field="key"]')].map(c => c.textContent);
	return out;
})()`

// dashboardStack is the running stack: the DNS app and dashboardSites.
type dashboardStack struct {
	fd                      *harness.Frontdesk
	httpAddr, dnsAddr, port string
	dir                     string
}

// startDashboardStack starts a real dnsmasq as the upstream DNS server,
// two backends, and frontdesk with the DNS app forwarding to that dnsmasq
// and dashboardSites.
func startDashboardStack(t *testing.T) dashboardStack {
	t.Helper()
	up := startDnsmasq(t, "no-resolv\nno-hosts\nlocal-ttl=300\naddress=/fwd.test/10.1.2.3\n", 0)
	app1, app2 := dashboardBackend(t), dashboardBackend(t)
	srv := startDNS(t, dnsSetup{options: []string{"auto_https off"}, sites: dashboardSites, env: []string{"APP1=" + app1, "APP2=" + app2},
		lines: []string{"listen-address=127.0.0.1", "no-resolv", "no-hosts", "server=" + dnsmasqAddr(up.Addr),
			"address=/app.test/127.0.0.1", "address=/ads.test/0.0.0.0", "cache-size=100"}})
	return dashboardStack{fd: srv.fd, httpAddr: srv.httpAddr, dnsAddr: srv.addr,
		port: strings.TrimPrefix(srv.httpAddr, "127.0.0.1:"), dir: t.TempDir()}
}

// TestDashboardInChromium runs the whole stack with traffic, loads the
// dashboard in real headless Chromium, checks each section's figures
// against the modules' admin APIs, purges from the page, takes a
// screenshot per section, and fails on any console error.
func TestDashboardInChromium(t *testing.T) {
	requirePeer(t, "chromium", "dnsmasq")
	st := startDashboardStack(t)
	fd, httpAddr, dnsAddr, port, dir := st.fd, st.httpAddr, st.dnsAddr, st.port, st.dir
	admin := adminAPI(fd.Admin)
	pageURL := "http://status.test:" + port + "/status"

	chrome, err := harness.StartChromium(filepath.Join(dir, "chromium"))
	if err != nil {
		t.Fatal(err)
	}
	defer chrome.Stop()
	if err := chrome.SetViewport(1280, 900, false); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	traffic := dashboardTraffic(t, httpAddr, dnsAddr, stop)
	if err := chrome.Navigate(pageURL); err != nil {
		close(stop)
		t.Fatal(err)
	}
	// Live: the page polls while traffic runs; two updates show rates.
	var first string
	if err := chrome.WaitFor(`document.body.dataset.generated`, 15*time.Second); err == nil {
		chrome.Eval(`document.body.dataset.generated`, &first)
	}
	err = chrome.WaitFor(`document.body.dataset.generated && document.body.dataset.generated !== `+strconv.Quote(first)+
		` && document.querySelector("#query-log")`, 15*time.Second)
	close(stop)
	traffic.Wait()
	if err != nil {
		t.Fatalf("the page did not update twice with traffic: %v\n%s", err, lastLines(fd.Log(), 20))
	}
	// Quiet now: wait for a poll after the last request, then compare.
	time.Sleep(300 * time.Millisecond)
	var quiet string
	chrome.Eval(`document.body.dataset.generated`, &quiet)
	if err := chrome.WaitFor(`document.body.dataset.generated !== `+strconv.Quote(quiet), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var dom map[string]json.RawMessage
	if err := chrome.Eval(domFiguresJS, &dom); err != nil {
		t.Fatal(err)
	}
	checkUpstreamFigures(t, admin, dom)
	checkDNSFigures(t, admin, dom)
	checkCacheFigures(t, admin, dom)
	checkMapFigures(t, dom)

	checkKeyboardAndPhone(t, chrome)
	saveSectionScreenshots(t, chrome, dir)

	purgeFromThePage(t, chrome, admin)
	checkAdminRoutes(t, admin)
	if errs := chrome.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors on the dashboard:\n%s", strings.Join(errs, "\n"))
	}
	crossOriginPurgeRefused(t, chrome, admin, httpAddr, port)
}

func fields(t *testing.T, dom map[string]json.RawMessage, key string) map[string]string {
	t.Helper()
	var f map[string]string
	if raw, ok := dom[key]; !ok || json.Unmarshal(raw, &f) != nil {
		t.Fatalf("the page has no row %q (rows: %v)", key, keys(dom))
	}
	return f
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func checkUpstreamFigures(t *testing.T, admin adminAPI, dom map[string]json.RawMessage) {
	var hg struct {
		Pools []struct {
			Name      string `json:"name"`
			Upstreams []struct {
				Upstream string `json:"upstream"`
				State    string `json:"state"`
				Traffic  struct {
					Requests  uint64 `json:"requests"`
					Status4xx uint64 `json:"status_4xx"`
					Status5xx uint64 `json:"status_5xx"`
					Failed    uint64 `json:"failed"`
					InFlight  int64  `json:"in_flight"`
				} `json:"traffic"`
			} `json:"upstreams"`
		} `json:"pools"`
	}
	admin.getJSON(t, "/healthgate/", &hg)
	var total uint64
	for _, p := range hg.Pools {
		for _, u := range p.Upstreams {
			f := fields(t, dom, p.Name+" "+u.Upstream)
			tr := u.Traffic
			total += tr.Requests
			for name, want := range map[string]uint64{"requests": tr.Requests, "status_4xx": tr.Status4xx, "status_5xx": tr.Status5xx, "failed": tr.Failed} {
				if f[name] != strconv.FormatUint(want, 10) {
					t.Errorf("upstream %s %s: page %q, admin API %d", u.Upstream, name, f[name], want)
				}
			}
			if !strings.Contains(f["state"], u.State) {
				t.Errorf("upstream %s state: page %q, admin API %s", u.Upstream, f["state"], u.State)
			}
		}
	}
	if total == 0 {
		t.Error("no proxied request was counted")
	}
}

func checkDNSFigures(t *testing.T, admin adminAPI, dom map[string]json.RawMessage) {
	var st map[string]float64
	admin.getJSON(t, "/dnsmasq/stats", &st)
	d := fields(t, dom, "dns")
	for _, name := range []string{"queries", "local", "cached", "forwarded", "upstream_failures"} {
		if d[name] != strconv.FormatFloat(st[name], 'f', -1, 64) {
			t.Errorf("DNS %s: page %q, admin API %v", name, d[name], st[name])
		}
	}
	if want := fmt.Sprintf("%.1f %%", 100*st["cache_hits"]/(st["cache_hits"]+st["cache_misses"])); d["cache_hit_ratio"] != want {
		t.Errorf("DNS cache hit ratio: page %q, admin API %s", d["cache_hit_ratio"], want)
	}
	if d["blocked"] == "0" || d["blocked"] == "" {
		t.Errorf("no blocked answer counted: %v", d)
	}
	var log, names, servers []string
	json.Unmarshal(dom["log"], &log)
	json.Unmarshal(dom["topNames"], &names)
	json.Unmarshal(dom["servers"], &servers)
	joined := strings.Join(log, "\n")
	// fwd.test came from the upstream once, then from the cache.
	for _, want := range []string{"127.0.0.1ads.testANOERRORblocked", "127.0.0.1fwd.testANOERRORcache", "127.0.0.1app.testANOERRORlocal"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the query log lacks %q:\n%s", want, joined)
		}
	}
	if len(names) == 0 || len(servers) != 1 || !strings.HasPrefix(servers[0], "127.0.0.1:") {
		t.Errorf("top names %v, servers %v: want names and the one upstream server", names, servers)
	}
}

func checkCacheFigures(t *testing.T, admin adminAPI, dom map[string]json.RawMessage) {
	var pc struct {
		Zones map[string]struct {
			Hits, Misses int64
			Objects      int
		} `json:"zones"`
	}
	admin.getJSON(t, "/proxy_cache/stats", &pc)
	z, ok := pc.Zones["memory/app_cache"]
	if !ok {
		t.Fatalf("no zone memory/app_cache in the admin API: %v", pc.Zones)
	}
	f := fields(t, dom, "memory/app_cache")
	for name, want := range map[string]int64{"hits": z.Hits, "misses": z.Misses, "objects": int64(z.Objects)} {
		if f[name] != strconv.FormatInt(want, 10) {
			t.Errorf("zone %s: page %q, admin API %d", name, f[name], want)
		}
	}
	if z.Hits == 0 || !strings.Contains(f["bytes"], "of 16.0 MiB") {
		t.Errorf("zone: %d hits, bytes cell %q; want hits and the max size", z.Hits, f["bytes"])
	}
	var top []string
	json.Unmarshal(dom["topKeys"], &top)
	if len(top) == 0 || !strings.Contains(top[0], "/item/1") {
		t.Errorf("top keys %v, want /item/1 first", top)
	}
}

func checkMapFigures(t *testing.T, dom map[string]json.RawMessage) {
	app := fields(t, dom, "app.test")
	if app["dns"] != "answers 127.0.0.1" || app["zones"] != "memory/app_cache" || app["pools"] != "app_pool" {
		t.Errorf("map row of app.test: %v", app)
	}
	if st := fields(t, dom, "status.test"); st["dns"] != "forwarded" || st["pools"] != "none" {
		t.Errorf("map row of status.test: %v", st)
	}
}

// checkKeyboardAndPhone: the first Tab reaches the skip link, every
// control can take the focus, and on a phone the page does not scroll
// sideways (wide tables scroll inside their box).
func checkKeyboardAndPhone(t *testing.T, chrome *harness.Chromium) {
	if err := chrome.PressKey("Tab", 9); err != nil {
		t.Fatal(err)
	}
	var focused string
	chrome.Eval(`document.activeElement.textContent`, &focused)
	if focused != "Skip to the figures" {
		t.Errorf("first Tab focuses %q, want the skip link", focused)
	}
	var unfocusable int
	chrome.Eval(`[...document.querySelectorAll("a,button,input,select")].filter(e => e.tabIndex < 0).length`, &unfocusable)
	if unfocusable != 0 {
		t.Errorf("%d controls cannot take the focus", unfocusable)
	}
	if err := chrome.SetViewport(390, 844, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	var width int
	chrome.Eval(`document.documentElement.scrollWidth`, &width)
	if width > 390 {
		t.Errorf("on a 390 px phone the page is %d px wide", width)
	}
}

// saveSectionScreenshots takes a PNG of each section at laptop width and
// of the upstreams at phone width; with FRONTDESK_UPDATE_SCREENSHOTS=1
// they replace docs/dashboard/*.png.
func saveSectionScreenshots(t *testing.T, chrome *harness.Chromium, dir string) {
	out := filepath.Join(dir, "screenshots")
	if os.Getenv("FRONTDESK_UPDATE_SCREENSHOTS") == "1" {
		out = repoFile(t, "docs/dashboard")
	}
	os.MkdirAll(out, 0o755)
	shots := []struct {
		name, selector string
		width          int
	}{{"phone-upstreams", "#upstreams", 390}, {"map", "#map", 1280}, {"upstreams", "#upstreams", 1280}, {"dns", "#dns", 1280}, {"cache", "#cache", 1280}}
	for _, s := range shots {
		if err := chrome.SetViewport(s.width, 900, s.width < 500); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		b, err := chrome.ScreenshotElement(s.selector)
		if err != nil {
			t.Fatalf("screenshot of %s: %v", s.name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() < 300 || img.Bounds().Dy() < 100 {
			t.Fatalf("screenshot of %s is not a sizeable PNG: %v", s.name, err)
		}
		if err := os.WriteFile(filepath.Join(out, s.name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// appCacheObjects is the number of entries in the zone memory/app_cache.
func appCacheObjects(t *testing.T, admin adminAPI) int {
	t.Helper()
	var pc struct {
		Zones map[string]struct{ Objects int } `json:"zones"`
	}
	admin.getJSON(t, "/proxy_cache/stats", &pc)
	return pc.Zones["memory/app_cache"].Objects
}

// purgeFromThePage purges a URL with the page's form and checks that the
// cache lost its entry.
func purgeFromThePage(t *testing.T, chrome *harness.Chromium, admin adminAPI) {
	before := appCacheObjects(t, admin)
	err := chrome.Eval(`(() => {
		document.getElementById("purge-zone").value = "memory/app_cache";
		document.getElementById("purge-kind").value = "prefix";
		document.getElementById("purge-value").value = "http://app.test";
		document.querySelector("#purge button[type=submit]").click();
	})()`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := chrome.WaitFor(`document.getElementById("purge-result").textContent.startsWith("Purged")`, 10*time.Second); err != nil {
		var msg string
		chrome.Eval(`document.getElementById("purge-result").textContent`, &msg)
		t.Fatalf("purge from the page: %v (%q)", err, msg)
	}
	var msg string
	chrome.Eval(`document.getElementById("purge-result").textContent`, &msg)
	if after := appCacheObjects(t, admin); before == 0 || after != 0 || msg != fmt.Sprintf("Purged %d entries.", before) {
		t.Errorf("purge from the page: %q; objects %d before, %d after", msg, before, after)
	}
}

// crossOriginPurgeRefused: another origin cannot purge, neither with the
// header (the browser's preflight fails) nor without it (the server
// refuses), nor a client that forges an Origin.
func crossOriginPurgeRefused(t *testing.T, chrome *harness.Chromium, admin adminAPI, httpAddr, port string) {
	for _, p := range []string{"/item/1", "/item/2"} {
		req, _ := http.NewRequest("GET", "http://"+httpAddr+p, nil)
		req.Host = "app.test"
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
		}
	}
	before := appCacheObjects(t, admin)
	if err := chrome.Navigate("http://app.test:" + port + "/item/1"); err != nil {
		t.Fatal(err)
	}
	if err := chrome.WaitFor(`document.readyState === "complete" && location.host.startsWith("app.test")`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	target := "http://status.test:" + port + "/status?purge"
	var outcome []string
	err := chrome.Eval(`Promise.all([
		fetch(`+strconv.Quote(target)+`, {method: "POST", headers: {"Content-Type": "application/json", "X-Frontdesk-Dashboard": "purge"}, body: '{"prefix":"http://app.test"}'})
			.then(r => "answered " + r.status, e => "blocked: " + e.name),
		fetch(`+strconv.Quote(target)+`, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"prefix":"http://app.test"}'})
			.then(r => "sent " + r.type, e => "blocked: " + e.name),
	])`, &outcome)
	if err != nil {
		t.Fatal(err)
	}
	if len(outcome) != 2 || outcome[0] != "blocked: TypeError" || outcome[1] != "sent opaque" {
		t.Errorf("cross-origin fetches from app.test: %v, want the first blocked by the browser", outcome)
	}
	req, _ := http.NewRequest("POST", "http://"+httpAddr+"/status?purge", strings.NewReader(`{"prefix":"http://app.test"}`))
	req.Host = "status.test"
	req.Header.Set("Origin", "http://evil.test")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Frontdesk-Dashboard", "purge")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a purge with Origin http://evil.test: %d, want 403", res.StatusCode)
	}
	if after := appCacheObjects(t, admin); before == 0 || after != before {
		t.Errorf("cross-origin purges: %d objects before, %d after; want them all kept", before, after)
	}
}

// checkAdminRoutes: the admin endpoint serves the page (to clients that
// are not browsers: Caddy's admin refuses a browser's navigation, which
// has Sec-Fetch-Mode and no Origin) and the same data as the site.
func checkAdminRoutes(t *testing.T, admin adminAPI) {
	res, err := http.Get("http://" + string(admin) + "/frontdesk/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /frontdesk/dashboard: %d %v", res.StatusCode, res.Header)
	}
	var d struct {
		Upstreams []struct{ Name string }    `json:"upstreams"`
		Cache     []struct{ Name string }    `json:"cache"`
		Sites     []struct{ Zones []string } `json:"sites"`
	}
	admin.getJSON(t, "/frontdesk/dashboard/data", &d)
	if len(d.Upstreams) != 1 || d.Upstreams[0].Name != "app_pool" || len(d.Cache) != 1 || d.Cache[0].Name != "memory/app_cache" || len(d.Sites) != 2 {
		t.Errorf("GET /frontdesk/dashboard/data: %+v", d)
	}
}
