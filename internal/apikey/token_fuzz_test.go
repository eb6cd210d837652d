package apikey_test

import (
	"bytes"
	"crypto/sha256"
	"math/big"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/apikey"
)

// FuzzParse: Parse never panics and agrees with a plain statement of the
// format, so it never accepts a malformed key and never refuses a good
// one. What it accepts parses back to the same parts: the org id re-encodes
// to the same characters, the public id and the secret are the key's own,
// and the log shows no secret.
func FuzzParse(f *testing.F) {
	_, key := apikey.New(uuid.Must(uuid.NewV7()))
	f.Add(key)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := apikey.Parse(s)
		org, ok := wellFormed(s)
		if (err == nil) != ok {
			t.Fatalf("Parse(%q) error %v, but the format says well-formed=%v", s, err, ok)
		}
		if err != nil {
			if err != apikey.ErrMalformed {
				t.Fatalf("Parse(%q) = %v, want ErrMalformed", s, err)
			}
			return
		}
		idEnd := len(apikey.Prefix) + 30
		secret := s[idEnd+1 : apikey.Len-apikey.CRCLen]
		if tok.OrgID != org || tok.PublicID != s[:idEnd] {
			t.Fatalf("Parse(%q) = org %s, public id %q; want %s, %q", s, tok.OrgID, tok.PublicID, org, s[:idEnd])
		}
		if h := sha256.Sum256([]byte(secret)); !bytes.Equal(tok.SecretHash(), h[:]) {
			t.Fatalf("Parse(%q): SecretHash is not the hash of the key's secret", s)
		}
		// New encodes the org id the same way: its first characters match.
		if fresh, _ := apikey.New(tok.OrgID); fresh.PublicID[:idEnd-8] != s[:idEnd-8] {
			t.Fatalf("org %s encodes as %q, the key has %q", tok.OrgID, fresh.PublicID[:idEnd-8], s[:idEnd-8])
		}
		if v := tok.LogValue().String(); strings.Contains(v, secret) {
			t.Fatalf("LogValue %q shows the secret", v)
		}
	})
}

// wellFormed is the key format stated plainly (package comment of apikey):
// qk_, 30 base62 characters of which the first 22 are an org id of at most
// 128 bits, _, 43 base62 characters, and the 6-character checksum of all
// that.
func wellFormed(s string) (uuid.UUID, bool) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if len(s) != apikey.Len || !strings.HasPrefix(s, "qk_") {
		return uuid.Nil, false
	}
	body, sum := s[:len(s)-apikey.CRCLen], s[len(s)-apikey.CRCLen:]
	for i, c := range []byte(s[3:]) {
		if i == 30 {
			if c != '_' {
				return uuid.Nil, false
			}
			continue
		}
		if strings.IndexByte(alphabet, c) < 0 {
			return uuid.Nil, false
		}
	}
	if apikey.Checksum(body) != sum {
		return uuid.Nil, false
	}
	n := new(big.Int)
	for _, c := range []byte(s[3:25]) {
		n.Mul(n, big.NewInt(62)).Add(n, big.NewInt(int64(strings.IndexByte(alphabet, c))))
	}
	if n.BitLen() > 128 {
		return uuid.Nil, false
	}
	var org uuid.UUID
	n.FillBytes(org[:])
	return org, true
}
