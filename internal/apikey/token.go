// Package apikey is scoped API keys for scripts: their format, their
// lifecycle, and the check that turns a presented key into its facts.
//
// A key reads qk_<public id>_<secret><checksum>:
//   - the public id is the organization's id (22 base62 characters) and 8
//     random ones, so a key is looked up inside its organization's wall and
//     can act nowhere else;
//   - the secret is 43 base62 characters (256 bits), stored only as SHA-256;
//   - the checksum is CRC32 of everything before it, 6 base62 characters, so
//     a client or a secret scanner can tell a mistyped or truncated key
//     without asking the server, and the server refuses one before any
//     database work.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"log/slog"
	"math/big"
	"strings"

	"github.com/google/uuid"
)

const (
	alphabet  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	orgLen    = 22 // base62 of 128 bits
	randLen   = 8
	secretLen = 43 // 43 × log2(62) ≈ 256 bits
	crcLen    = 6  // base62 of 32 bits
	idLen     = orgLen + randLen
	// Prefix starts every key.
	Prefix = "qk_"
	// Len is the length of a key.
	Len = len(Prefix) + idLen + 1 + secretLen + crcLen
)

// ErrMalformed is any key that is not one: wrong shape, wrong characters or
// a checksum that does not match. It says no more, on purpose.
var ErrMalformed = errors.New("malformed API key")

// Token is a parsed key.
type Token struct {
	OrgID uuid.UUID
	// PublicID is qk_ and the public id: what the database looks keys up
	// by, safe to show and to log.
	PublicID string
	secret   string
}

// SecretHash returns the SHA-256 of the key's secret, the only form stored.
func (t Token) SecretHash() []byte {
	h := sha256.Sum256([]byte(t.secret))
	return h[:]
}

// New returns a fresh key for org, its parsed form, and the full key text,
// which is shown once and never stored.
func New(org uuid.UUID) (Token, string) {
	id := encode(new(big.Int).SetBytes(org[:]), orgLen) + random(randLen)
	secret := random(secretLen)
	body := Prefix + id + "_" + secret
	return Token{OrgID: org, PublicID: Prefix + id, secret: secret}, body + checksum(body)
}

// Parse reads a key. Anything that is not a well-formed key with a matching
// checksum is ErrMalformed, decided without I/O.
func Parse(s string) (Token, error) {
	if len(s) != Len || !strings.HasPrefix(s, Prefix) || s[len(Prefix)+idLen] != '_' {
		return Token{}, ErrMalformed
	}
	body, sum := s[:Len-crcLen], s[Len-crcLen:]
	id, secret := s[len(Prefix):len(Prefix)+idLen], body[len(Prefix)+idLen+1:]
	if !base62(id) || !base62(secret) || checksum(body) != sum {
		return Token{}, ErrMalformed
	}
	n, ok := decode(id[:orgLen])
	if !ok || n.BitLen() > 128 {
		return Token{}, ErrMalformed
	}
	var org uuid.UUID
	n.FillBytes(org[:])
	return Token{OrgID: org, PublicID: Prefix + id, secret: secret}, nil
}

func checksum(body string) string {
	return encode(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(body)))), crcLen)
}

func base62(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// encode writes n in base62, left-padded with zeros to width.
func encode(n *big.Int, width int) string {
	out := make([]byte, width)
	base, m, r := big.NewInt(62), new(big.Int).Set(n), new(big.Int)
	for i := width - 1; i >= 0; i-- {
		m.DivMod(m, base, r)
		out[i] = alphabet[r.Int64()]
	}
	return string(out)
}

func decode(s string) (*big.Int, bool) {
	n, base := new(big.Int), big.NewInt(62)
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(alphabet, s[i])
		if d < 0 {
			return nil, false
		}
		n.Mul(n, base).Add(n, big.NewInt(int64(d)))
	}
	return n, true
}

// random returns n base62 characters from crypto/rand, without modulo bias.
func random(n int) string {
	out := make([]byte, n)
	max := big.NewInt(62)
	for i := range out {
		d, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // never on Linux
		}
		out[i] = alphabet[d.Int64()]
	}
	return string(out)
}

// LogValue shows only the public id: a Token holds its secret, and slog's
// fallback formatting would print it.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.PublicID) }
