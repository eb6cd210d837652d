package main

import "os"

// introspectionQuery is graphql-js 16's getIntrospectionQuery(), what
// GraphiQL sends; the limits tests read the same file.
var introspectionQuery = func() string {
	b, err := os.ReadFile("../../graph/limits/testdata/graphiql-introspection.graphql")
	if err != nil {
		panic(err)
	}
	return string(b)
}()
