package requestid

import "context"

type clientIPKey struct{}

// WithClientIP returns ctx carrying the address the request came from, as
// the server saw it (the connection's peer, not a forwarded header).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the client address in ctx, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
