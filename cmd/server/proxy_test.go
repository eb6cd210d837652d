package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTrustedProxiesReachTheServer: QUIRE_TRUSTED_PROXIES is wired from
// the configuration to the handler. A request from a trusted peer is logged
// and limited as the client its X-Forwarded-For names; from any other peer,
// the header is ignored.
func TestTrustedProxiesReachTheServer(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, map[string]string{"QUIRE_TRUSTED_PROXIES": "192.0.2.0/24"}, deps{})
	send := func(peer, xff string) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", bytes.NewReader([]byte(`{"query":"{ __typename }"}`)))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", xff)
		e.send(req, caller{}).ok(t)
	}
	send("192.0.2.10:5000", "203.0.113.50, 198.51.100.9")
	send("198.51.100.200:5000", "203.0.113.51")
	log := e.log.String()
	for _, want := range []string{`"client_ip":"198.51.100.9"`, `"client_ip":"198.51.100.200"`} {
		if !strings.Contains(log, want) {
			t.Errorf("access log lacks %s", want)
		}
	}
	for _, forged := range []string{"203.0.113.50", "203.0.113.51", `"client_ip":"192.0.2.10"`} {
		if strings.Contains(log, forged) {
			t.Errorf("access log shows %s, which the server should not have believed", forged)
		}
	}
}
