// Drives deskconn's MCP server with the official MCP TypeScript SDK client,
// over stdio (`deskconn mcp`) and over streamable HTTP (`deskconn serve
// --demo`), against the Zoho Desk emulator. Exits non-zero on any failure.
//
// Environment (set by TestRealClients in ../../e2e_test.go):
//   DESKCONN_BIN       the deskconn binary
//   DESKCONN_MCP_ARGS  JSON array of arguments for `deskconn mcp` (stdio)
//   DESKCONN_MCP_URL   the streamable HTTP endpoint, e.g. http://127.0.0.1:8080/mcp/demo
//   DESKCONN_API_KEY   the API key for the HTTP endpoint
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

function need(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set`);
  }
  return v;
}

function check(cond, what, detail) {
  if (!cond) {
    throw new Error(`${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail).slice(0, 2000)}`);
  }
}

function textOf(result) {
  return (result.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

// ok calls a tool that must succeed and returns its structured content
// (which the SDK client has already validated against the output schema).
async function ok(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  check(!result.isError, `${name} failed`, textOf(result));
  check(result.structuredContent && typeof result.structuredContent === 'object', `${name} has no structured content`, result);
  return result.structuredContent;
}

const expectedTools = [
  'create_ticket', 'list_tickets', 'get_ticket', 'update_ticket', 'move_tickets_to_trash',
  'create_ticket_attachment', 'list_ticket_attachments', 'add_agent', 'list_agents', 'deactivate_agent',
  'list_organizations', 'list_departments', 'list_teams', 'list_products', 'search_contacts',
  'list_roles', 'list_profiles', 'search_tickets', 'find_agent_by_email',
  'create_contact', 'get_contact', 'update_contact', 'list_contacts', 'move_contacts_to_trash', 'list_contact_tickets',
  'create_account', 'get_account', 'update_account', 'list_accounts', 'search_accounts', 'list_account_contacts',
  'search_articles', 'get_article', 'list_article_categories',
];

async function exercise(label, transport) {
  const client = new Client({ name: 'deskconn-node-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of expectedTools) {
      check(names.includes(n), `${label}: tools/list lacks ${n}`, names);
    }
    for (const t of tools) {
      check(t.inputSchema?.type === 'object', `${label}: ${t.name} input schema is not an object`, t.inputSchema);
      check(typeof t.description === 'string' && t.description.length > 20, `${label}: ${t.name} has no description`);
      check(t.annotations && typeof t.annotations.readOnlyHint === 'boolean', `${label}: ${t.name} has no annotations`, t.annotations);
    }
    const trash = tools.find((t) => t.name === 'move_tickets_to_trash');
    // MCP's default for destructiveHint is true: the lean catalogue sends
    // it only where it is false.
    check(trash.annotations.readOnlyHint === false && (trash.annotations.destructiveHint ?? true) === true,
      `${label}: move_tickets_to_trash is not marked destructive`, trash.annotations);
    const create = tools.find((t) => t.name === 'create_ticket');
    check(create.annotations.destructiveHint === false, `${label}: create_ticket is marked destructive`, create.annotations);

    const list = await ok(client, 'list_tickets', { params: { limit: 3 } });
    check(Array.isArray(list.data) && list.data.length === 3 && list.count === 3, `${label}: list_tickets returned a wrong page`, list);
    check(list.hasMore === true && list.nextFrom === 3, `${label}: list_tickets paging`, list);

    const first = list.data[0];
    const ticket = await ok(client, 'get_ticket', { ticketId: first.id });
    check(ticket.id === first.id && ticket.ticketNumber === first.ticketNumber, `${label}: get_ticket returned another ticket`, ticket);

    const subject = `Node ${label} client ticket ${Date.now()}`;
    const created = await ok(client, 'create_ticket', {
      payload: { subject, departmentId: '1892000000006907', contactId: '1892000000042032', priority: 'High' },
    });
    check(typeof created.id === 'string' && created.id !== '' && created.ticketNumber, `${label}: create_ticket result`, created);
    const again = await ok(client, 'get_ticket', { ticketId: created.id });
    check(again.subject === subject, `${label}: the created ticket reads back with another subject`, again);

    // A second contact with one e-mail is refused as a conflict naming the first.
    const email = `node.${label}.${Date.now()}@example.net`;
    const contact = await ok(client, 'create_contact', { payload: { lastName: 'Node', email } });
    const dup = await client.callTool({ name: 'create_contact', arguments: { payload: { lastName: 'Node', email } } });
    check(dup.isError === true && dup.structuredContent?.error?.code === 'conflict' && textOf(dup).includes(contact.id),
      `${label}: a duplicate contact was not refused as a conflict`, dup);
    const articles = await ok(client, 'search_articles', { text: 'wi-fi' });
    check(articles.count >= 1 && typeof articles.data[0].snippet === 'string', `${label}: search_articles`, articles);

    // A bad input is a tool error (not a protocol error) that names every
    // problem and where to find a department id.
    const bad = await client.callTool({ name: 'create_ticket', arguments: { payload: { priority: 7, contactId: '1892000000042032' } } });
    const text = textOf(bad);
    check(bad.isError === true, `${label}: a bad input did not give isError`, bad);
    for (const s of ['/payload/subject', '/payload/departmentId', '/payload/priority', 'list_departments']) {
      check(text.includes(s), `${label}: the error text does not mention ${s}`, text);
    }
    check(bad.structuredContent?.error?.code === 'invalid', `${label}: the error's structured content`, bad.structuredContent);

    // An unknown tool is a protocol error.
    let rejected = false;
    try {
      await client.callTool({ name: 'no_such_tool', arguments: {} });
    } catch {
      rejected = true;
    }
    check(rejected, `${label}: an unknown tool did not fail`);
    console.log(`${label}: ${tools.length} tools; list_tickets, get_ticket, create_ticket (#${created.ticketNumber}) and a bad input checked`);
  } finally {
    await client.close();
  }
}

async function main() {
  const bin = need('DESKCONN_BIN');
  const args = JSON.parse(need('DESKCONN_MCP_ARGS'));
  await exercise('stdio', new StdioClientTransport({ command: bin, args, env: { ...process.env }, stderr: 'inherit' }));

  const url = new URL(need('DESKCONN_MCP_URL'));
  const key = need('DESKCONN_API_KEY');
  await exercise('http', new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));

  await confirmations(url, key);

  // Without the API key the endpoint refuses to start a session.
  let refused = false;
  try {
    const c = new Client({ name: 'deskconn-node-test', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(url));
    await c.close();
  } catch {
    refused = true;
  }
  check(refused, 'http: a client without an API key connected');
  console.log('ok');
}

main().catch((err) => {
  console.error(`FAIL: ${err?.stack || err}`);
  process.exit(1);
});

// confirmations: a client that can ask its user (elicitation) is asked
// before move_tickets_to_trash runs under the confirm policy; yes runs it
// without "confirm" in the arguments, no leaves the ticket alone.
async function confirmations(url, key) {
  for (const answer of ['accept', 'decline']) {
    const asked = [];
    const client = new Client({ name: 'deskconn-node-test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
    });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
    try {
      const created = await ok(client, 'create_ticket', {
        payload: { subject: `Elicitation ${answer}`, departmentId: '1892000000006907', contactId: '1892000000042032' },
      });
      const res = await client.callTool({ name: 'move_tickets_to_trash', arguments: { payload: { ticketIds: [created.id] } } });
      check(asked.length === 1 && asked[0].includes(created.id), `elicitation ${answer}: the person was not asked about the ticket`, asked);
      if (answer === 'accept') {
        check(!res.isError, 'elicitation accept: the trash did not run', textOf(res));
      } else {
        check(res.isError === true && textOf(res).includes('did not confirm'), 'elicitation decline: the trash was not refused', textOf(res));
        const still = await ok(client, 'get_ticket', { ticketId: created.id });
        check(still.id === created.id, 'elicitation decline: the ticket is gone', still);
      }
      console.log(`http: elicitation ${answer} checked`);
    } finally {
      await client.close();
    }
  }
}
