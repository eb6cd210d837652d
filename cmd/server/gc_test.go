package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: the server sets its own collector target only when the
// operator did not set GOGC.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	tuneGC("50")
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=50 set, the target became %d; want it left alone", got)
	}
	tuneGC("")
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("with GOGC unset, the target is %d; want %d", got, defaultGCPercent)
	}
}
