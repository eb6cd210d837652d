#!/bin/sh
# Lists the five newest notes of the organization an API key belongs to.
# Needs only curl. Create a key with notes:read (createApiKey), then:
#   QUIRE_API_KEY=qk_... sh examples/list-notes.sh
set -eu
url="${QUIRE_URL:-http://127.0.0.1:8080}"
: "${QUIRE_API_KEY:?set QUIRE_API_KEY to an API key with notes:read}"
# The header goes through stdin, so the key never shows in the process list.
printf 'Authorization: Bearer %s\n' "$QUIRE_API_KEY" |
	curl --silent --show-error --fail-with-body \
		--header @- \
		--header 'Content-Type: application/json' \
		--data '{"query": "{ notes(first: 5) { edges { node { title } } } }"}' \
		"$url/graphql"
echo
