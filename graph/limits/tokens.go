package limits

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// countTokens counts the lexical tokens of a GraphQL document with gqlparser's
// own lexer: punctuators, names and values, not comments and not the end of
// input. It stops once it has counted stop tokens (stop <= 0: never), so a
// huge document costs no more than the limit it is checked against.
//
// A lexical error ends the count where it occurs: the document does not parse,
// and the parser, which runs next, reports that with its own message.
func countTokens(query string, stop int) int {
	lex := lexer.New(&ast.Source{Input: query})
	n := 0
	for stop <= 0 || n < stop {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		if tok.Kind != lexer.Comment {
			n++
		}
	}
	return n
}
