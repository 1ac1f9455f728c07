package proxycache

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestJSONAndCaddyfileAgree feeds the same bad values to the Caddyfile and
// to JSON: both must refuse them with the same words.
func TestJSONAndCaddyfileAgree(t *testing.T) {
	for _, c := range []struct{ block, json, want string }{
		{"use_stale off error", `{"use_stale":["off","error"]}`, `use_stale: off stands alone`},
		{"use_stale error http_999", `{"use_stale":["error","http_999"]}`, `use_stale: unknown condition "http_999"`},
		{"valid 99 10m", `{"valid":{"99":"10m"}}`, `valid: "99" is not a status code from 200 to 599 or "any"`},
		{"methods PUT", `{"methods":["PUT"]}`, `methods: "PUT" cannot be cached`},
		{"ignore_headers Age", `{"ignore_headers":["Age"]}`, `ignore_headers: "Age" cannot be ignored`},
		{`key " "`, `{"key":" "}`, `key must not be blank`},
		{"targeted_fields Cache-Control", `{"targeted_fields":["Cache-Control"]}`, `Cache-Control is not a targeted field`},
	} {
		_, err := adapt(t, ":8080 {\n\tproxy_cache {\n\t\t"+c.block+"\n\t}\n\treverse_proxy 127.0.0.1:9\n}")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Caddyfile %q: error %v, want it to contain %q", c.block, err, c.want)
		}
		if err := provisionJSON(c.json); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("JSON %s: error %v, want it to contain %q", c.json, err, c.want)
		}
	}
}

// TestOptionsAcceptedBothWays checks that what one form accepts, the other does.
func TestOptionsAcceptedBothWays(t *testing.T) {
	for _, c := range []struct{ block, json string }{
		{"use_stale off", `{"use_stale":["off"]}`},
		{"ignore_headers vary x-accel-expires", `{"ignore_headers":["vary","x-accel-expires"]}`},
		{"methods post", `{"methods":["post"]}`},
		{"valid any 1m", `{"valid":{"any":"1m"}}`},
	} {
		if _, err := adapt(t, ":8080 {\n\tproxy_cache {\n\t\t"+c.block+"\n\t}\n\treverse_proxy 127.0.0.1:9\n}"); err != nil {
			t.Errorf("Caddyfile %q: %v", c.block, err)
		}
		if err := provisionJSON(c.json); err != nil {
			t.Errorf("JSON %s: %v", c.json, err)
		}
	}
}

// provisionJSON provisions a handler from its JSON with a memory storage of
// its own and reports the error.
func provisionJSON(cfg string) error {
	var h Handler
	if err := json.Unmarshal([]byte(cfg), &h); err != nil {
		return err
	}
	h.StorageRaw = json.RawMessage(`{"module":"memory","zone":"options_test"}`)
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	err := h.Provision(ctx)
	if err == nil {
		_ = h.Cleanup()
	}
	return err
}
