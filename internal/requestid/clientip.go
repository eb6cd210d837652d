package requestid

import "context"

type clientIPKey struct{}

// WithClientIP returns ctx carrying the address the request came from: the
// connection's peer, or the client a trusted proxy forwarded for
// (QUIRE_TRUSTED_PROXIES), never a forwarding header taken on trust.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the client address in ctx, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
