package apikey_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/apikey"
)

func TestNewParsesBack(t *testing.T) {
	for range 200 {
		org := uuid.Must(uuid.NewV7())
		tok, key := apikey.New(org)
		if len(key) != apikey.Len || !strings.HasPrefix(key, tok.PublicID+"_") {
			t.Fatalf("key %q: length %d, public id %q", key, len(key), tok.PublicID)
		}
		got, err := apikey.Parse(key)
		if err != nil || got.OrgID != org || got.PublicID != tok.PublicID || string(got.SecretHash()) != string(tok.SecretHash()) {
			t.Fatalf("Parse(New) = %+v, %v", got, err)
		}
	}
	a, _ := apikey.New(uuid.Nil)
	b, _ := apikey.New(uuid.Nil)
	if a.PublicID == b.PublicID || string(a.SecretHash()) == string(b.SecretHash()) {
		t.Fatal("two keys share an id or a secret")
	}
	if ffff, _ := apikey.New(uuid.Max); ffff.OrgID != uuid.Max {
		t.Fatal("the largest org id does not round-trip")
	}
}

// TestParseRefuses: every corruption is caught without I/O.
func TestParseRefuses(t *testing.T) {
	_, key := apikey.New(uuid.Must(uuid.NewV7()))
	flip := func(i int) string {
		b := []byte(key)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := map[string]string{
		"empty":              "",
		"no prefix":          strings.TrimPrefix(key, "qk_"),
		"truncated":          key[:len(key)-1],
		"extended":           key + "0",
		"typo in the id":     flip(5),
		"typo in the secret": flip(40),
		"typo in the sum":    flip(len(key) - 2),
		"bad character":      key[:10] + "!" + key[11:],
		"org id overflows":   "qk_" + strings.Repeat("z", 22) + key[25:],
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := apikey.Parse(s); err != apikey.ErrMalformed {
				t.Errorf("Parse = %v, want ErrMalformed", err)
			}
		})
	}
}
