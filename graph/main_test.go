package graph

import (
	"testing"

	"github.com/quirehq/quire/internal/pgtest"
)

// The directive benchmark reads real sessions and permissions once.
func TestMain(m *testing.M) { pgtest.Main(m) }
