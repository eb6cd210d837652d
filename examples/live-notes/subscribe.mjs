// Subscribes to Quire's note events with graphql-ws (the client browser
// apps use) and prints the first event as JSON.
//
//   QUIRE_URL=http://localhost:8080 QUIRE_TOKEN=<access token or qk_ key> \
//   QUIRE_ORG=<organization id> node subscribe.mjs
//
// In a browser, drop the `ws` import and webSocketImpl: the global
// WebSocket is used.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { QUIRE_URL = 'http://localhost:8080', QUIRE_TOKEN, QUIRE_ORG } = process.env;
if (!QUIRE_TOKEN) {
  console.error('set QUIRE_TOKEN (and QUIRE_ORG unless the token has one organization)');
  process.exit(2);
}

const client = createClient({
  url: QUIRE_URL.replace(/^http/, 'ws') + '/graphql',
  webSocketImpl: WebSocket,
  // Credentials go in connection_init: browsers cannot set headers on a
  // websocket. A bad token closes the socket with code 4403.
  connectionParams: {
    Authorization: `Bearer ${QUIRE_TOKEN}`,
    ...(QUIRE_ORG ? { 'X-Organization-Id': QUIRE_ORG } : {}),
  },
  retryAttempts: 0,
});

try {
  const events = client.iterate({
    query: 'subscription { noteEvents { kind note { id title updatedAt } } }',
  });
  for await (const result of events) {
    if (result.errors) {
      // The subscription ends with FORBIDDEN or UNAUTHENTICATED once the
      // subscriber may no longer read notes.
      console.error(JSON.stringify(result.errors));
      process.exit(1);
    }
    console.log(JSON.stringify(result.data.noteEvents));
    break;
  }
} catch (err) {
  // Errors ending the subscription, or the socket's close event (code 4403
  // for a refused credential).
  console.error(JSON.stringify(err?.code ? { code: err.code, reason: err.reason } : err));
  process.exit(1);
} finally {
  await client.dispose();
}
