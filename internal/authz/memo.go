package authz

import (
	"context"

	"github.com/quirehq/quire/internal/policy"
)

// PrincipalOf returns the principal this request resolved, if resolving it
// succeeded. It reads the request memo, so it answers even outside the
// context @orgScoped passed down: code that runs after a field failed (the
// recorder of denied attempts) can still name the organization the attempt
// was aimed at. It never loads anything.
func PrincipalOf(ctx context.Context) (policy.Principal, bool) {
	m := memoFrom(ctx)
	if m == nil {
		return policy.Principal{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.principalDone || m.principalErr != nil {
		return policy.Principal{}, false
	}
	return m.principal, true
}
