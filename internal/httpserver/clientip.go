package httpserver

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/quirehq/quire/internal/requestid"
)

// clientIP is the request's client address: what withRequestID resolved
// (the peer, or the client a trusted proxy forwarded for), else the peer.
func clientIP(r *http.Request) string {
	if ip := requestid.ClientIP(r.Context()); ip != "" {
		return ip
	}
	return peerIP(r)
}

// peerIP is the address of the connection's other end.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// proxies are the addresses whose X-Forwarded-For the server believes
// (QUIRE_TRUSTED_PROXIES).
type proxies []netip.Prefix

func (p proxies) trust(a netip.Addr) bool {
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// client returns r's client address. The peer is the client unless it is a
// trusted proxy; then X-Forwarded-For is read from its right end, where
// that proxy appended what it saw, past every trusted proxy, and the first
// address that is not one is the client. Whatever lies left of it was
// written by the client itself and is ignored. An entry that is not an
// address stops the walk at the last address believed.
func (p proxies) client(r *http.Request) string {
	peer := peerIP(r)
	if len(p) == 0 {
		return peer
	}
	a, err := netip.ParseAddr(peer)
	if err != nil || !p.trust(a.Unmap()) {
		return peer
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		entries := strings.Split(hops[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, ok := parseHop(entries[j])
			if !ok {
				return client
			}
			client = a.String()
			if !p.trust(a) {
				return client
			}
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, or one with a port
// as some proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	return netip.Addr{}, false
}
