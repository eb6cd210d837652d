package httpserver_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/httpserver"
)

// proxyFixture is a server that trusts 10.0.0.0/8 and 2001:db8:1::/48 as
// proxies and limits each client to a burst of 2.
func proxyFixture(t *testing.T) *fixture {
	return newFixture(t, func(c *httpserver.Config) {
		c.RateLimit, c.RateBurst = 0.001, 2 // no token comes back while the test runs
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:1::/48")}
	})
}

// TestClientBehindTrustedProxies: the client is the first address, from
// the right of X-Forwarded-For, that is not a trusted proxy; a peer that is
// not trusted is the client whatever it sends. The access log shows which.
func TestClientBehindTrustedProxies(t *testing.T) {
	cases := []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"no proxy", "203.0.113.9:4000", nil, "203.0.113.9"},
		{"untrusted peer's header ignored", "203.0.113.9:4000", []string{"198.51.100.7"}, "203.0.113.9"},
		{"one trusted proxy", "10.1.2.3:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"a client's own entries ignored", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"a chain of trusted proxies", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.7, 10.9.9.9, 10.8.8.8"}, "198.51.100.7"},
		{"headers read as one list", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.7", "10.9.9.9"}, "198.51.100.7"},
		{"every hop trusted", "10.1.2.3:4000", []string{"10.7.7.7, 10.9.9.9"}, "10.7.7.7"},
		{"trusted proxy, no header", "10.1.2.3:4000", nil, "10.1.2.3"},
		{"garbage stops at the last believed", "10.1.2.3:4000", []string{"198.51.100.7, not-an-ip, 10.9.9.9"}, "10.9.9.9"},
		{"entry with a port", "10.1.2.3:4000", []string{"198.51.100.7:5555"}, "198.51.100.7"},
		{"IPv6 proxy and client", "[2001:db8:1::5]:4000", []string{"2001:db8:2::9"}, "2001:db8:2::9"},
		{"IPv4-mapped proxy", "[::ffff:10.1.2.3]:4000", []string{"198.51.100.7"}, "198.51.100.7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := proxyFixture(t)
			r := postJSON(`{}`)
			r.RemoteAddr = tc.peer
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if w := f.do(r); w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			if want := `"client_ip":"` + tc.want + `"`; !strings.Contains(f.logs.String(), want) {
				t.Errorf("access log lacks %s:\n%s", want, f.logs.String())
			}
		})
	}
}

// TestRateLimitBehindTrustedProxy: two clients behind one proxy have a
// bucket each, and a client cannot escape its bucket by writing
// X-Forwarded-For itself.
func TestRateLimitBehindTrustedProxy(t *testing.T) {
	f := proxyFixture(t)
	send := func(xff string) int {
		r := postJSON(`{}`)
		r.RemoteAddr = "10.1.2.3:4000"
		r.Header.Set("X-Forwarded-For", xff)
		return f.do(r).Code
	}
	for i, want := range []int{200, 200, 429} {
		if got := send("198.51.100.7"); got != want {
			t.Fatalf("client A request %d: status %d, want %d", i+1, got, want)
		}
	}
	if got := send("1.1.1.1, 198.51.100.7"); got != 429 {
		t.Errorf("client A with a forged entry: status %d, want 429", got)
	}
	if got := send("198.51.100.8"); got != 200 {
		t.Errorf("client B behind the same proxy: status %d, want 200", got)
	}
}
