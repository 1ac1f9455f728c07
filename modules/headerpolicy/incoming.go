package headerpolicy

import (
	"net/http"
	"strings"
)

// incomingFields records which of the fields the policy reads, replaces or
// counts the request arrived with. One pass over the header finds them all:
// a header map lookup or delete costs about as much as stepping over a few
// entries, and most requests carry none of these fields, so the lookups and
// deletes of absent fields are skipped. A field absent from the scan stays
// absent until the policy sets it: nothing before that adds fields.
type incomingFields uint8

const (
	inRealIP incomingFields = 1 << iota
	inForwardedFor
	inForwardedProto
	inForwardedHost
	inForwarded
	inConnection
)

// spoofableFields are the bits of spoofable.
const spoofableFields = inRealIP | inForwardedFor | inForwardedProto | inForwardedHost | inForwarded

// spoofable are the forwarding fields an untrusted client's copy of which is
// counted as replaced, with their bits.
var spoofable = [...]struct {
	name string
	bit  incomingFields
}{
	{hdrRealIP, inRealIP},
	{hdrForwardedFor, inForwardedFor},
	{hdrForwardedProto, inForwardedProto},
	{hdrForwardedHost, inForwardedHost},
	{hdrForwarded, inForwarded},
}

// proxyFields are request fields only a proxy in front may send, which the
// policy does not set: other X-Forwarded-* fields (Port, Prefix, Server,
// Scheme, Ssl ...) that frameworks read as the client's view, and the
// request-target overrides of URL-rewriting front ends. From anyone but a
// trusted proxy they are a spoof, and, when the backend reflects them, a
// way to poison a cache that does not key on them.
const proxyFieldPrefix = "X-Forwarded-"

var proxyFields = []string{"X-Original-Url", "X-Rewrite-Url"}

// scanIncoming returns the fields hdr holds and, when the peer is not
// trusted, removes its proxyFields and every X-Forwarded-* field other than
// the three the policy sets itself.
func scanIncoming(hdr http.Header, trusted bool) incomingFields {
	var in incomingFields
	for name := range hdr {
		switch name {
		case hdrRealIP:
			in |= inRealIP
		case hdrForwardedFor:
			in |= inForwardedFor
		case hdrForwardedProto:
			in |= inForwardedProto
		case hdrForwardedHost:
			in |= inForwardedHost
		case hdrForwarded:
			in |= inForwarded
		case hdrConnection:
			in |= inConnection
		default:
			if !trusted && isProxyField(name) {
				delete(hdr, name)
			}
		}
	}
	return in
}

// isProxyField reports whether name is one of proxyFields or an
// X-Forwarded-* field; the three the policy sets are told apart before.
func isProxyField(name string) bool {
	if strings.HasPrefix(name, proxyFieldPrefix) {
		return true
	}
	for _, f := range proxyFields {
		if name == f {
			return true
		}
	}
	return false
}
