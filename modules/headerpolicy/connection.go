package headerpolicy

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/ascii"
)

// Connection nominations (RFC 9110 §7.6.1). A client may name fields in its
// Connection header as hop-by-hop; reverse_proxy deletes every field so named
// after all handlers before it have run. Left alone, a client could delete
// what the policy sets (`Connection: X-Real-IP`), or bring back what it omits
// (reverse_proxy fills in X-Forwarded-Host again once its "omit" marker is
// deleted). So the policy honours a nomination of a field it owns the way the
// RFC asks of the sender's copy — that copy is dropped — and then removes the
// nomination, so that the policy's own value reaches the upstream. Every other
// nomination (keep-alive, Upgrade, the client's own fields) is left to
// reverse_proxy.

// hdrConnection is the field whose list nominates hop-by-hop fields.
const hdrConnection = "Connection"

// policyFields are the fields the policy always owns, whatever its options.
// Host is not in the header map, but a nomination of it is dropped too.
var policyFields = []string{hdrRealIP, hdrForwardedFor, hdrForwardedProto, hdrForwardedHost, hdrForwarded, "Host"}

// ownedFields lists, canonically, the fields the policy owns: policyFields,
// the request ID field, and the fields its request operations set, add or
// replace. Names with placeholders are returned in templated, to be expanded
// per request.
func (h *Handler) ownedFields() (owned, templated []string) {
	owned = append(owned, policyFields...)
	if h.RequestID != "" {
		owned = append(owned, h.RequestID)
	}
	if h.Request == nil {
		return owned, nil
	}
	add := func(name string) {
		switch {
		case name == "*":
		case strings.Contains(name, "{"):
			templated = append(templated, name)
		default:
			owned = append(owned, http.CanonicalHeaderKey(name))
		}
	}
	for name := range h.Request.Set {
		add(name)
	}
	for name := range h.Request.Add {
		add(name)
	}
	for name := range h.Request.Replace {
		add(name)
	}
	return owned, templated
}

// claimNominated drops the sender's copy of every owned field that r's
// Connection header nominates, and the nomination itself; the header goes
// when nothing is left in it. Requests without Connection cost nothing.
func (h *Handler) claimNominated(r *http.Request) {
	lines := r.Header[hdrConnection]
	if len(lines) == 0 {
		return
	}
	owned := h.owned
	if len(h.ownedTemplated) > 0 {
		repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		owned = append([]string(nil), owned...)
		for _, tmpl := range h.ownedTemplated {
			if repl != nil {
				tmpl = repl.ReplaceKnown(tmpl, "")
			}
			owned = append(owned, http.CanonicalHeaderKey(tmpl))
		}
	}
	var kept []string
	changed := false
	for _, line := range lines {
		var keep []string
		for tok := range strings.SplitSeq(line, ",") {
			name := trimOWS(tok)
			if field, ok := ownedName(owned, name); ok {
				delete(r.Header, field)
				changed = true
				continue
			}
			if name != "" {
				keep = append(keep, name)
			}
		}
		if len(keep) > 0 {
			kept = append(kept, strings.Join(keep, ", "))
		}
	}
	if !changed {
		return
	}
	if len(kept) == 0 {
		delete(r.Header, hdrConnection)
		return
	}
	r.Header[hdrConnection] = kept
}

// ownedName returns the owned field a Connection token names. It matches
// exactly the fields reverse_proxy would delete for the token: those whose
// canonical name equals the token's canonical form, i.e. an ASCII
// case-insensitive match (a token with any other byte is not canonicalized,
// so it never names a canonical field).
func ownedName(owned []string, tok string) (string, bool) {
	for _, f := range owned {
		if ascii.EqualFold(f, tok) {
			return f, true
		}
	}
	return "", false
}

// trimOWS trims what reverse_proxy trims around a Connection token
// (textproto.TrimString: ASCII space, tab, CR and LF).
func trimOWS(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
