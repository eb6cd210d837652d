package limits_test

import "os"

// The introspection query GraphiQL sends: graphql-js v16's getIntrospectionQuery
// (src/utilities/getIntrospectionQuery.ts on the 16.x line, the release that asks
// for "queryType { name kind }"), written out with its interpolations filled in.
// The depth limit must admit both.

// graphiQLIntrospection is getIntrospectionQuery({descriptions: true,
// specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true}).
// graphiQLIntrospection is graphql-js 16's getIntrospectionQuery() with
// its defaults, what GraphiQL sends; cmd/server's tests read the same file.
var graphiQLIntrospection = mustRead("testdata/graphiql-introspection.graphql")

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// graphiQLIntrospectionInputDeprecation is the same with
// inputValueDeprecation: true, which GraphiQL sets when told the server
// supports deprecated arguments and input fields.
const graphiQLIntrospectionInputDeprecation = `
    query IntrospectionQuery {
      __schema {
        description
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          description
          isRepeatable
          locations
          args(includeDeprecated: true) {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      specifiedByURL
      fields(includeDeprecated: true) {
        name
        description
        args(includeDeprecated: true) {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields(includeDeprecated: true) {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
      isDeprecated
      deprecationReason
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                    ofType {
                      kind
                      name
                      ofType {
                        kind
                        name
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  `
