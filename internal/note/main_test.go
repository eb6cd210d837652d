package note_test

import (
	"testing"

	"github.com/quirehq/quire/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
