package proxycache

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	// header_policy's ordering relative to proxy_cache is checked below.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/frontdesk-proxy/frontdesk/modules/headerpolicy"
)

func adapt(t *testing.T, body string) (string, error) {
	t.Helper()
	out, _, err := caddyfile.Adapter{ServerType: httpcaddyfile.ServerType{}}.Adapt([]byte(body), map[string]any{"filename": "Caddyfile"})
	return string(out), err
}

// handlers returns the handler names of the first route's subroute, in order.
func handlerOrder(t *testing.T, js string) []string {
	t.Helper()
	var names []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if h, ok := x["handler"].(string); ok {
				names = append(names, h)
			}
			for _, k := range []string{"apps", "http", "servers", "srv0", "routes", "handle", "subroute"} {
				if c, ok := x[k]; ok {
					walk(c)
				}
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatal(err)
	}
	walk(v)
	return names
}

func TestCaddyfileOrder(t *testing.T) {
	js, err := adapt(t, `:8080 {
	reverse_proxy 127.0.0.1:9
	proxy_cache
	header_policy nginx
	encode gzip
}`)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(handlerOrder(t, js), " ")
	// header_policy outside the cache, the cache right before reverse_proxy,
	// encode outside both (so stored bodies are never compressed by us).
	if got != "encode header_policy proxy_cache reverse_proxy" {
		t.Errorf("order: %s", got)
	}
}

func TestCaddyfileFull(t *testing.T) {
	js, err := adapt(t, `:8080 {
	@nocache header Cookie *
	@bypass query nocache=1
	proxy_cache /api/* {
		storage memory {
			zone api_cache
			max_size 1g
			inactive 60m
		}
		key {http.request.method}{http.request.scheme}{http.request.host}{http.request.uri}
		valid 200 301 10m
		valid 302 1m
		valid 404 1m
		valid any 5s
		methods POST
		min_uses 2
		bypass @bypass
		no_cache @nocache
		ignore_headers Cache-Control Expires X-Accel-Expires
		use_stale error timeout updating http_500 http_502 http_503
		background_update on
		lock on
		lock_timeout 3s
		lock_age 2s
		revalidate off
		max_object_size 2m
		cache_status on
		cache_status_key on
		x_cache_status off
	}
	reverse_proxy 127.0.0.1:9
}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"storage":{"inactive":3600000000000,"max_size":1073741824,"module":"memory","zone":"api_cache"}`,
		`"valid":{"200":600000000000,"301":600000000000,"302":60000000000,"404":60000000000,"any":5000000000}`,
		`"methods":["POST"]`, `"min_uses":2`,
		`"bypass":[{"query":{"nocache":["1"]}}]`,
		`"no_cache":[{"header":{"Cookie":["*"]}}]`,
		`"ignore_headers":["Cache-Control","Expires","X-Accel-Expires"]`,
		`"use_stale":["error","timeout","updating","http_500","http_502","http_503"]`,
		`"background_update":true`, `"lock":true`, `"lock_timeout":3000000000`, `"lock_age":2000000000`, `"revalidate":false`,
		`"max_object_size":2097152`, `"cache_status":true`, `"cache_status_key":true`, `"x_cache_status":false`,
		`"path":["/api/*"]`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("adapted JSON lacks %s:\n%s", want, js)
		}
	}
}

func TestCaddyfileErrors(t *testing.T) {
	cases := []struct{ block, want string }{
		{"valid 200 10x", `proxy_cache: valid: "10x" is not a duration (e.g. 10m, 1h, 1d), at Caddyfile:3`},
		{"valid 99 10m", `proxy_cache: valid: "99" is not a status code from 200 to 599 or "any", at Caddyfile:3`},
		{"valid ok 10m", `proxy_cache: valid: "ok" is not a status code`},
		{"use_stale error http_999", `proxy_cache: use_stale: unknown condition "http_999"`},
		{"use_stale off error", `use_stale: off stands alone`},
		{"ignore_headers X-Accel-Buffering", `ignore_headers: "X-Accel-Buffering" cannot be ignored`},
		{"lock_age 0s", `lock_age: "0s" is not a positive duration`},
		{"lock_age 1s 2s", `lock_age: want exactly one value`},
		{"methods PUT", `methods: "PUT" cannot be cached`},
		{"min_uses 0", `min_uses: "0" is not a number of at least 1`},
		{"lock maybe", `lock: want on or off, got "maybe"`},
		{"lock_timeout soon", `lock_timeout: "soon" is not a positive duration`},
		{"max_object_size 10q", `max_object_size: "10q" is not a size`},
		{"storage tape", `storage: unknown storage "tape" (available: memory, disk, redis)`},
		{"storage disk", `storage disk: want a directory path`},
		{"storage disk /etc/passwd/cache", `storage disk: "/etc/passwd/cache": /etc/passwd is not a directory`},
		{"storage disk /tmp/x {\n\t\t\tlevels 1:2\n\t\t}", `storage disk: unknown option "levels", at Caddyfile:4`},
		{"storage memory {\n\t\t\tmax_size lots\n\t\t}", `storage memory: max_size: "lots" is not a size (e.g. 512k, 100m, 1g), at Caddyfile:4`},
		{"storage memory {\n\t\t\tinactive -1m\n\t\t}", `inactive: "-1m" is not a positive duration`},
		{"storage memory {\n\t\t\tlevels 1:2\n\t\t}", `storage memory: unknown option "levels"`},
		{"bypass nothing", `bypass: want a matcher (@name, a path or *)`},
		{"bypass @missing", `bypass:`},
		{"cache_key x", `proxy_cache: unknown option "cache_key", at Caddyfile:3`},
		{"key", `key: want exactly one value`},
		{"targeted_fields", `targeted_fields: want field names`},
		{"targeted_fields CDN-Cache-Control bad(name)", `targeted_fields: "bad(name)" is not a field name, at Caddyfile:3`},
		{"targeted_fields Cache-Control", `targeted_fields: Cache-Control is not a targeted field`},
		{"forward_targeted maybe", `forward_targeted: want on or off, got "maybe"`},
	}
	for _, c := range cases {
		_, err := adapt(t, ":8080 {\n\tproxy_cache {\n\t\t"+c.block+"\n\t}\n\treverse_proxy 127.0.0.1:9\n}")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.block, err, c.want)
		}
	}
	if _, err := adapt(t, ":8080 {\n\tproxy_cache api_cache\n}"); err == nil || !strings.Contains(err.Error(), `unexpected argument "api_cache"`) {
		t.Errorf("argument: %v", err)
	}
}

func TestCaddyfileStorages(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ block, want string }{
		{"storage disk " + dir + "/c {\n\t\t\tmax_size 2g\n\t\t\tinactive 1h\n\t\t}",
			`"storage":{"inactive":3600000000000,"max_size":2147483648,"module":"disk","path":"` + dir + `/c"}`},
		{"storage redis redis://127.0.0.1:6379/2 {\n\t\t\tprefix fd:\n\t\t\tinactive 30m\n\t\t\ttimeout 100ms\n\t\t\tpool_size 4\n\t\t}",
			`"storage":{"inactive":1800000000000,"module":"redis","pool_size":4,"prefix":"fd:","timeout":100000000,"url":"redis://127.0.0.1:6379/2"}`},
		{"storage memory", `"storage":{"module":"memory"}`},
		{"storage redis {\n\t\t\tcluster 10.0.0.1:7000\n\t\t\tlocal 64m {\n\t\t\t\theartbeat 100ms\n\t\t\t}\n\t\t}",
			`"storage":{"cluster":["10.0.0.1:7000"],"local":{"heartbeat":100000000,"max_size":67108864},"module":"redis"}`},
		{"storage redis {\n\t\t\tcluster 10.0.0.1:7000 10.0.0.2:7000\n\t\t\tpassword {env.REDIS_PASSWORD}\n\t\t\ttls {\n\t\t\t\tca /etc/redis/ca.pem\n\t\t\t\tserver_name redis.internal\n\t\t\t}\n\t\t}",
			`"storage":{"cluster":["10.0.0.1:7000","10.0.0.2:7000"],"module":"redis","password":"{env.REDIS_PASSWORD}","tls":{"ca":"/etc/redis/ca.pem","server_name":"redis.internal"}}`},
		{"storage redis {\n\t\t\tsentinel mymaster 10.0.0.1:26379 10.0.0.2:26379\n\t\t\tsentinel_password s3\n\t\t\tdb 1\n\t\t}",
			`"storage":{"db":1,"module":"redis","sentinel":{"addresses":["10.0.0.1:26379","10.0.0.2:26379"],"master":"mymaster","password":"s3"}}`},
	} {
		js, err := adapt(t, ":8080 {\n\tproxy_cache {\n\t\t"+c.block+"\n\t}\n}")
		if err != nil || !strings.Contains(js, c.want) {
			t.Errorf("%q: %v\n%s\nwant %s", c.block, err, js, c.want)
		}
	}
	for _, c := range []struct{ block, want string }{
		{"storage redis redis://x {\n\t\t\tpool_size 0\n\t\t}", `pool_size: "0" is not a number of at least 1`},
		{"storage redis redis://x {\n\t\t\ttimeout never\n\t\t}", `timeout: "never" is not a positive duration`},
		{"storage redis", `give exactly one of a URL (one server), cluster <addresses> or sentinel <master> <addresses>`},
		{"storage redis redis://x {\n\t\t\tcluster 127.0.0.1:7000\n\t\t}", `give exactly one of a URL`},
		{"storage redis {\n\t\t\tcluster 127.0.0.1\n\t\t}", `cluster: "127.0.0.1" is not a host:port address`},
		{"storage redis {\n\t\t\tcluster 127.0.0.1:7000\n\t\t\tdb 2\n\t\t}", `a cluster has only database 0`},
		{"storage redis {\n\t\t\tsentinel 127.0.0.1:26379\n\t\t}", `sentinel: want the master name, then the sentinels' addresses`},
		{"storage redis {\n\t\t\tsentinel mymaster 127.0.0.1:0\n\t\t}", `sentinel: "127.0.0.1:0" has no valid port`},
		{"storage redis {\n\t\t\tcluster 127.0.0.1:7000\n\t\t\tsentinel_password x\n\t\t}", `sentinel_username and sentinel_password need sentinel`},
		{"storage redis {\n\t\t\tcluster 127.0.0.1:7000\n\t\t\ttls {\n\t\t\t\tclient_cert a.pem\n\t\t\t}\n\t\t}", `tls: client_cert: want 2 value(s)`},
		{"storage redis redis://x {\n\t\t\tlocal\n\t\t}", `local: want the local tier's size`},
		{"storage redis redis://x {\n\t\t\tlocal lots\n\t\t}", `local: "lots" is not a size`},
		{"storage redis redis://x {\n\t\t\tlocal 1m {\n\t\t\t\theartbeat 0s\n\t\t\t}\n\t\t}", `heartbeat: "0s" is not a positive duration`},
		{"storage disk /tmp/a /tmp/b", `storage disk: unexpected argument "/tmp/b"`},
		{"storage memory extra", `storage memory: unexpected argument "extra"`},
	} {
		_, err := adapt(t, ":8080 {\n\tproxy_cache {\n\t\t"+c.block+"\n\t}\n}")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.block, err, c.want)
		}
	}
}

func TestCaddyfileTargeted(t *testing.T) {
	for block, want := range map[string]string{
		"targeted_fields Frontdesk-Cache-Control CDN-Cache-Control\n\t\tforward_targeted off": `"forward_targeted":false,"handler":"proxy_cache","targeted_fields":["Frontdesk-Cache-Control","CDN-Cache-Control"]`,
		"targeted_fields off": `"handler":"proxy_cache","targeted_fields":[]`,
	} {
		js, err := adapt(t, ":8080 {\n\tproxy_cache {\n\t\t"+block+"\n\t}\n}")
		if err != nil || !strings.Contains(js, want) {
			t.Errorf("%q: %v\n%s\nwant %s", block, err, js, want)
		}
	}
}
