// Signs in to deskconn's MCP endpoint the way a hosted agent does, with the
// official MCP TypeScript SDK's OAuth client (an OAuthClientProvider on the
// streamable HTTP transport), knowing only the endpoint's URL: it discovers
// the protected resource and authorization server metadata from the 401,
// registers itself (dynamic client registration), and prints the
// authorization URL for the person ("AUTHORIZE <url>"). The Go test opens
// it in Chromium, signs in and grants read-only access; the redirect lands
// on this script's loopback callback, which finishes the flow. Then it
// lists and calls tools, refreshes the token and checks that the grant is
// read-only. Prints "ok" at the end; exits non-zero on any failure.
//
// Environment (set by TestOAuthSignIn in ../../oauth_e2e_test.go):
//   DESKCONN_MCP_URL   the MCP endpoint, e.g. http://127.0.0.1:8080/mcp/demo
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';

function check(cond, what, detail) {
  if (!cond) {
    throw new Error(`${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail).slice(0, 2000)}`);
  }
}

const mcpURL = new URL(process.env.DESKCONN_MCP_URL || '');

// The redirect target: a loopback HTTP server that receives the code.
let gotCode;
const codeArrived = new Promise((resolve) => { gotCode = resolve; });
const callback = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  if (u.pathname !== '/callback') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p id="done">Signed in. You can close this tab.</p>');
  gotCode({ code: u.searchParams.get('code'), error: u.searchParams.get('error'), iss: u.searchParams.get('iss'), state: u.searchParams.get('state') });
});
await new Promise((resolve) => callback.listen(0, '127.0.0.1', resolve));
const redirectUrl = `http://127.0.0.1:${callback.address().port}/callback`;

class Provider {
  constructor() { this.saved = {}; this.authorizations = 0; }
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return { client_name: 'TS SDK e2e agent', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state() { return 'e2e-state'; }
  clientInformation() { return this.saved.client; }
  saveClientInformation(c) { this.saved.client = c; }
  tokens() { return this.saved.tokens; }
  saveTokens(t) { this.saved.tokens = t; }
  saveCodeVerifier(v) { this.saved.verifier = v; }
  codeVerifier() { return this.saved.verifier; }
  redirectToAuthorization(url) {
    this.authorizations++;
    this.authorizationURL = url;
    console.log(`AUTHORIZE ${url.href}`);
  }
  discoveryState() { return this.saved.discovery; }
  saveDiscoveryState(s) { this.saved.discovery = s; }
}

const provider = new Provider();
const first = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider });
const client = new Client({ name: 'deskconn-oauth-e2e', version: '0.0.0' });
let refused;
try {
  await client.connect(first);
} catch (e) {
  refused = e;
}
check(refused instanceof UnauthorizedError, 'connecting without a token must ask for authorization', String(refused));
check(provider.authorizations === 1, 'redirectToAuthorization was called once', provider.authorizations);
const au = provider.authorizationURL;
check(au.searchParams.get('code_challenge_method') === 'S256', 'PKCE S256', au.href);
check(au.searchParams.get('resource') === mcpURL.href, 'the resource is the MCP endpoint', au.href);
check(provider.saved.client && provider.saved.client.client_id, 'registered by DCR', provider.saved.client);

const cb = await codeArrived;
check(cb.code && !cb.error, 'the consent redirect carries a code', cb);
check(cb.state === 'e2e-state', 'the state comes back', cb);
check(cb.iss === mcpURL.origin, 'the issuer comes back', cb);
await first.finishAuth(cb.code);
check(provider.saved.tokens && provider.saved.tokens.access_token.startsWith('dkat_'), 'an access token', Object.keys(provider.saved.tokens || {}));
callback.close();

async function session() {
  const c = new Client({ name: 'deskconn-oauth-e2e', version: '0.0.0' });
  await c.connect(new StreamableHTTPClientTransport(mcpURL, { authProvider: provider }));
  return c;
}

let c = await session();
const tools = (await c.listTools()).tools;
const names = tools.map((t) => t.name);
check(names.includes('list_tickets') && names.includes('get_ticket'), 'read tools are listed', names);
check(!names.includes('create_ticket') && !names.includes('send_reply'), 'a read-only grant lists no write tools', names);
check(tools.every((t) => t.annotations && t.annotations.readOnlyHint === true), 'every listed tool is read-only', names);
const list = await c.callTool({ name: 'list_tickets', arguments: { params: { limit: 2 } } });
check(!list.isError && list.structuredContent && list.structuredContent.data.length === 2, 'list_tickets works', list);
const write = await c.callTool({ name: 'create_ticket', arguments: { payload: { subject: 'nope', departmentId: '1', contactId: '2' } } }).catch((e) => ({ thrown: String(e) }));
check(write.thrown || write.isError, 'a write is refused under a read-only grant', write);
await c.close();

// Refresh: the SDK exchanges the refresh token; the old one is rotated out.
const oldRefresh = provider.saved.tokens.refresh_token;
const result = await auth(provider, { serverUrl: mcpURL });
check(result === 'AUTHORIZED', 'auth() with a refresh token', result);
check(provider.saved.tokens.refresh_token !== oldRefresh, 'the refresh token rotated', null);
c = await session();
const again = await c.callTool({ name: 'list_tickets', arguments: { params: { limit: 1 } } });
check(!again.isError, 'a tool call with the refreshed token', again);
await c.close();

// The old refresh token is refused (and its family revoked).
const reuse = await fetch(new URL('/oauth/token', mcpURL), {
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: oldRefresh, client_id: provider.saved.client.client_id }),
});
check(reuse.status === 400 && (await reuse.json()).error === 'invalid_grant', 'a reused refresh token is refused', reuse.status);
const after = await fetch(mcpURL, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${provider.saved.tokens.access_token}` },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '0' } } }),
});
check(after.status === 401, 'tokens of a revoked family are refused', after.status);
check((after.headers.get('www-authenticate') || '').includes('resource_metadata="'), 'the 401 names the resource metadata', after.headers.get('www-authenticate'));
console.log('ok');
