package store

import "testing"

// TestSpelledCopiesWhatItDoesNotKnow: a known value comes back as
// spelling's string, anything else as a copy that outlives pgx's buffer.
func TestSpelledCopiesWhatItDoesNotKnow(t *testing.T) {
	var got string
	buf := []byte("PRIVATE")
	if err := (spelled{&got}).ScanBytes(buf); err != nil || got != "PRIVATE" {
		t.Fatalf("ScanBytes(PRIVATE) = %q, %v", got, err)
	}
	buf = []byte("ARCHIVED")
	if err := (spelled{&got}).ScanBytes(buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX") // pgx reuses its buffer for the next row
	if got != "ARCHIVED" {
		t.Errorf("ScanBytes(ARCHIVED) kept %q after the buffer changed, want ARCHIVED", got)
	}
}
