// The OAuth front door with real clients: the official TypeScript SDK's
// OAuth client provider (streamable HTTP and SSE) and mcp-remote's OAuth
// flow, against an `oauth` MCP URL of the real bigin-mcp binary, the
// person signing in at the sandbox's Zoho. browser.mjs plays the person.
// Each client identifies itself both ways the server accepts: Dynamic
// Client Registration, and a Client ID Metadata Document that docs (below)
// serves over https on loopback with the suite's certificate; the server
// fetches it because it runs with BIGIN_MCP_CIMD_ALLOW_LOOPBACK and trusts
// the suite's CA through SSL_CERT_FILE.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

import { follow } from "./browser.mjs";
import { freePort, killAll, need, startSandbox, startServer, track } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

let sandbox;
let server;
let accountId;
let toolCount; // how many tools a URL without a policy offers, as published
let docs;

// startDocServer serves Client ID Metadata Documents over https on
// loopback, with the suite's certificate pair, and counts fetches per
// document.
async function startDocServer() {
  const published = new Map();
  const hits = new Map();
  const srv = https.createServer({ cert: readFileSync(need("TLS_CERT")), key: readFileSync(need("TLS_KEY")) }, (req, res) => {
    const p = new URL(req.url, "https://127.0.0.1").pathname;
    hits.set(p, (hits.get(p) ?? 0) + 1);
    const doc = published.get(p);
    if (!doc) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(doc));
  });
  await new Promise((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", resolve);
  });
  const base = `https://127.0.0.1:${srv.address().port}`;
  return {
    // publish serves a document for a client and returns its URL, which is
    // the client_id.
    publish(name, metadata) {
      const p = `/clients/${name}.json`;
      published.set(p, { client_id: base + p, token_endpoint_auth_method: "none", ...metadata });
      return base + p;
    },
    fetches: (url) => hits.get(new URL(url).pathname) ?? 0,
    close: () =>
      new Promise((resolve) => {
        srv.closeAllConnections();
        srv.close(resolve);
      }),
  };
}

before(async () => {
  sandbox = await startSandbox();
  docs = await startDocServer();
  server = await startServer(sandbox, { env: { BIGIN_MCP_CIMD_ALLOW_LOOPBACK: "true", SSL_CERT_FILE: need("CA_CERT") } });
  const { refresh_token } = await sandbox.control("POST", "refresh-token");
  const account = await server.admin("POST", "/admin/integrated-accounts", { name: "OAuth suite", datacenter: "us", refresh_token }, 201);
  accountId = account.id;
  toolCount = (await server.tools(accountId)).length;
});

after(async () => {
  await server?.stop();
  await docs?.close();
  sandbox?.child.kill("SIGTERM");
  killAll();
});

// mintOAuth mints an oauth URL and returns { id, url }.
async function mintOAuth(name, config = {}) {
  return server.admin("POST", `/admin/integrated-accounts/${accountId}/mcp`, { name, config: { auth: "oauth", ...config } }, 201);
}

async function grantsOf(serverId) {
  return (await server.admin("GET", `/admin/integrated-accounts/${accountId}/mcp/${serverId}/grants`, undefined, 200)).result;
}

async function primaryUser() {
  const data = await sandbox.control("GET", "data");
  return sandbox.control("GET", `user?id=${data.primary_user_id}`);
}

// signInAs makes the sandbox's Zoho sign in this user until the test ends.
async function signInAs(t, userId) {
  await sandbox.control("POST", `consent-user?id=${userId}`);
  t.after(() => sandbox.control("POST", "consent-user?id=primary"));
}

// Provider is an OAuthClientProvider kept in memory, as a desktop client
// keeps one on disk: it registers dynamically, and remembers the
// authorization URL the SDK wants opened instead of opening a browser.
class Provider {
  constructor(redirect) {
    this.redirect = redirect;
    this.client = undefined;
    this.saved = undefined;
    this.verifier = undefined;
    this.authorizationUrl = undefined;
  }
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: "bigin-mcp TypeScript SDK suite",
      redirect_uris: [this.redirect],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

// MetadataProvider identifies the client by a Client ID Metadata Document
// instead of registering: the SDK uses clientMetadataUrl as the client_id
// when the server advertises client_id_metadata_document_supported.
class MetadataProvider extends Provider {
  constructor(redirect, clientMetadataUrl) {
    super(redirect);
    this.clientMetadataUrl = clientMetadataUrl;
  }
}

const transports = {
  streamable: (url, provider) => new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }),
  sse: (url, provider) => new SSEClientTransport(new URL(url + "/sse"), { authProvider: provider }),
};

// authorize makes the SDK client meet the 401, discover the server's
// metadata, register and build the authorization URL, then runs the
// browser on it. It returns where the browser ended and the transport to
// finish on.
async function authorize(kind, url, provider, browserOpts = {}) {
  const transport = transports[kind](url, provider);
  const client = new Client({ name: "bigin-mcp-oauth-suite", version: "1.0.0" });
  await assert.rejects(client.connect(transport), UnauthorizedError, "an oauth URL answers 401 without a token");
  await client.close().catch(() => {});
  assert.ok(provider.authorizationUrl, "the SDK asked to open the authorization URL");
  assert.equal(provider.authorizationUrl.searchParams.get("code_challenge_method"), "S256");
  assert.equal(provider.authorizationUrl.searchParams.get("resource"), url);
  const got = await follow(provider.authorizationUrl, { stopAt: provider.redirect, ...browserOpts });
  return { got, transport };
}

// connectOAuth runs the whole flow and returns a connected client.
async function connectOAuth(kind, url, provider) {
  const { got, transport } = await authorize(kind, url, provider);
  assert.ok(got.redirect, `the flow ended on a page: ${got.status} ${got.page}`);
  assert.ok(
    got.visited[1]?.startsWith(sandbox.url + "/oauth/v2/auth?"),
    `the authorization's first answer sends the person to the Zoho sign-in of the org's region, no page between: ${got.visited.slice(0, 2)}`,
  );
  const q = got.redirect.searchParams;
  assert.equal(q.get("error"), null, q.get("error_description"));
  assert.equal(q.get("iss"), server.base, "RFC 9207 iss");
  await transport.finishAuth(q.get("code"));
  const client = new Client({ name: "bigin-mcp-oauth-suite", version: "1.0.0" });
  await client.connect(transports[kind](url, provider));
  return client;
}

for (const kind of ["streamable", "sse"]) {
  describe(`TypeScript SDK OAuth client provider over ${kind}`, () => {
    test("connects to an oauth URL with dynamic client registration and calls as the person", async () => {
      const minted = await mintOAuth(`sdk ${kind}`, { oauth_profiles: ["Administrator"] });
      const provider = new Provider("http://127.0.0.1:47613/callback");
      const client = await connectOAuth(kind, minted.url, provider);
      try {
        assert.match(provider.client.client_id, /^bmcp_client_/);
        assert.match(provider.saved.access_token, /^bmcp_at_/);
        assert.match(provider.saved.refresh_token, /^bmcp_rt_/);
        assert.ok(provider.saved.expires_in > 0 && provider.saved.expires_in <= 3600);
        assert.equal((await client.listTools()).tools.length, toolCount);
        const me = await client.callTool({ name: "list_all_zohobigin_me", arguments: {} });
        const primary = await primaryUser();
        assert.equal(me.structuredContent.result[0].id, primary.id);

        const grants = await grantsOf(minted.id);
        assert.equal(grants.length, 1);
        assert.equal(grants[0].user_email, primary.email);
        assert.equal(grants[0].client_id, provider.client.client_id);
        assert.equal(grants[0].status, "active");
      } finally {
        await client.close();
      }
    });

    test("connects to an oauth URL with a client metadata document and calls as the person", async () => {
      const minted = await mintOAuth(`sdk cimd ${kind}`);
      const redirect = `http://127.0.0.1:${47620 + (kind === "sse" ? 1 : 0)}/callback`;
      // The document lists the redirect URI without a port: loopback
      // redirect URIs match on any port.
      const clientId = docs.publish(`sdk-${kind}`, { client_name: `TypeScript SDK suite (metadata document, ${kind})`, redirect_uris: ["http://127.0.0.1/callback"] });
      const provider = new MetadataProvider(redirect, clientId);
      const client = await connectOAuth(kind, minted.url, provider);
      try {
        assert.equal(provider.client.client_id, clientId, "the SDK used the document URL as its client_id instead of registering");
        assert.equal(provider.client.client_secret, undefined);
        assert.equal(provider.authorizationUrl.searchParams.get("client_id"), clientId);
        assert.ok(docs.fetches(clientId) >= 1, "the server fetched the document");
        assert.match(provider.saved.access_token, /^bmcp_at_/);
        assert.equal((await client.listTools()).tools.length, toolCount);
        const me = await client.callTool({ name: "list_all_zohobigin_me", arguments: {} });
        const primary = await primaryUser();
        assert.equal(me.structuredContent.result[0].id, primary.id);

        const grants = await grantsOf(minted.id);
        assert.equal(grants.length, 1);
        assert.equal(grants[0].client_id, clientId);
        assert.equal(grants[0].client_name, `TypeScript SDK suite (metadata document, ${kind})`, "the name comes from the document");
        assert.equal(grants[0].user_email, primary.email);
      } finally {
        await client.close();
      }
    });
  });
}

describe("TypeScript SDK OAuth client provider: tokens and refusals", () => {
  test("a rejected access token is refreshed; the old refresh token gets the same pair for a retry, then is reuse", async () => {
    const minted = await mintOAuth("sdk refresh");
    const provider = new Provider("http://127.0.0.1:47614/callback");
    const client = await connectOAuth("streamable", minted.url, provider);
    try {
      const first = provider.saved;
      // A token the server does not know: the next call gets 401 and the
      // SDK refreshes on its own.
      provider.saved = { ...first, access_token: "bmcp_at_" + "x".repeat(43) };
      assert.equal((await client.listTools()).tools.length, toolCount);
      assert.notEqual(provider.saved.refresh_token, first.refresh_token, "refresh tokens rotate");
      assert.notEqual(provider.saved.access_token, first.access_token);

      const tokenURL = server.base + "/oauth/token";
      const refresh = (refreshToken) =>
        fetch(tokenURL, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: provider.client.client_id }),
        });
      // A client whose refresh answer was lost retries with the token it
      // still holds: within the grace it gets the pair it missed.
      const retry = await refresh(first.refresh_token);
      assert.equal(retry.status, 200);
      const again = await retry.json();
      assert.equal(again.access_token, provider.saved.access_token, "the same pair, not a new one");
      assert.equal(again.refresh_token, provider.saved.refresh_token);

      // Once the new refresh token has been used in turn, the old one is
      // reuse: the grant ends.
      const next = await refresh(provider.saved.refresh_token);
      assert.equal(next.status, 200);
      const reuse = await refresh(first.refresh_token);
      assert.equal(reuse.status, 400);
      assert.equal((await reuse.json()).error, "invalid_grant");
      assert.deepEqual(await grantsOf(minted.id), [], "reuse revoked the whole grant");
    } finally {
      await client.close();
    }
  });

  test("a deactivated user is refused at sign-in", async (t) => {
    const minted = await mintOAuth("sdk deactivated");
    const disabled = (await sandbox.control("GET", "data?type=DeactiveUsers")).user_ids;
    assert.ok(disabled.length > 0);
    await signInAs(t, disabled[0]);
    const provider = new Provider("http://127.0.0.1:47615/callback");
    const { got } = await authorize("streamable", minted.url, provider);
    assert.equal(got.status, 403, "the flow ends on our refusal page");
    assert.match(got.page, /not active/);
    assert.deepEqual(await grantsOf(minted.id), []);
  });

  test("a profile not in oauth_profiles is refused at sign-in", async (t) => {
    const minted = await mintOAuth("sdk profiles", { oauth_profiles: ["Administrator"] });
    let standard;
    for (const id of (await sandbox.control("GET", "data?type=ActiveUsers")).user_ids) {
      const u = await sandbox.control("GET", `user?id=${id}`);
      if (u.profile.name !== "Administrator") {
        standard = id;
        break;
      }
    }
    assert.ok(standard, "the sandbox has an active user who is not an Administrator");
    await signInAs(t, standard);
    const provider = new Provider("http://127.0.0.1:47616/callback");
    const { got } = await authorize("streamable", minted.url, provider);
    assert.equal(got.status, 403);
    assert.match(got.page, /Administrator/);
    assert.deepEqual(await grantsOf(minted.id), []);
  });

  test("denying at the consent page sends access_denied back to the client", async () => {
    const minted = await mintOAuth("sdk deny");
    const provider = new Provider("http://127.0.0.1:47617/callback");
    const { got } = await authorize("streamable", minted.url, provider, { decision: "deny" });
    assert.ok(got.redirect, `the flow ended on a page: ${got.status}`);
    assert.equal(got.redirect.searchParams.get("error"), "access_denied");
    assert.equal(got.redirect.searchParams.get("code"), null);
    assert.equal(got.redirect.searchParams.get("iss"), server.base);
    assert.deepEqual(await grantsOf(minted.id), []);
  });
});

describe("mcp-remote's OAuth flow over stdio, as Claude Desktop runs it", () => {
  const mcpRemote = path.join(here, "node_modules", "mcp-remote", "dist", "proxy.js");
  let configDir;
  before(() => {
    configDir = mkdtempSync(path.join(tmpdir(), "mcp-remote-oauth-"));
  });
  after(() => rmSync(configDir, { recursive: true, force: true }));

  // viaRemote starts mcp-remote on the URL with browser.mjs as the browser
  // it opens, and connects to it over stdio.
  async function viaRemote(args, browserLog) {
    const env = {
      ...process.env,
      MCP_REMOTE_CONFIG_DIR: configDir,
      // mcp-remote opens the browser with `open`, whose xdg-open runs
      // $BROWSER when no desktop is detected.
      BROWSER: path.join(here, "browser.mjs"),
      BROWSER_LOG: browserLog,
      XDG_CURRENT_DESKTOP: "X-Generic",
    };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const transport = new StdioClientTransport({ command: process.execPath, args: [mcpRemote, ...args], env, stderr: "pipe" });
    let stderr = "";
    transport.stderr?.on("data", (d) => (stderr += d));
    const client = new Client({ name: "claude-desktop-like", version: "1.0.0" });
    try {
      await client.connect(transport);
    } catch (err) {
      let browsed = "";
      try {
        browsed = readFileSync(browserLog, "utf8");
      } catch {
        // the browser never ran
      }
      throw new Error(`${err.message}\nmcp-remote stderr:\n${stderr}\nbrowser:\n${browsed}`);
    } finally {
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
    }
    return client;
  }

  // With cimd, mcp-remote identifies itself with --client-metadata-url
  // (which makes its callback port strict) instead of registering.
  const cases = [
    { name: "streamable HTTP", path: "", args: [] },
    { name: "SSE only", path: "/sse", args: ["--transport", "sse-only"] },
    { name: "streamable HTTP with a client metadata document", path: "", args: [], cimd: "mcp-remote-streamable" },
    { name: "SSE only with a client metadata document", path: "/sse", args: ["--transport", "sse-only"], cimd: "mcp-remote-sse" },
  ];
  for (const c of cases) {
    test(`${c.name}: signs in through the browser and calls as the person`, async () => {
      const minted = await mintOAuth(`mcp-remote ${c.name}`);
      const port = await freePort();
      let clientId;
      const args = [minted.url + c.path, String(port), ...c.args];
      if (c.cimd) {
        // mcp-remote's redirect URI is http://localhost:<port>/oauth/callback.
        clientId = docs.publish(c.cimd, { client_name: `mcp-remote (${c.name})`, redirect_uris: [`http://localhost:${port}/oauth/callback`] });
        args.push("--client-metadata-url", clientId);
      }
      const client = await viaRemote(args, path.join(configDir, `browser-${port}.log`));
      try {
        assert.equal(client.getServerVersion().name, "bigin-mcp");
        assert.equal((await client.listTools()).tools.length, toolCount);
        const res = await client.callTool({ name: "list_all_zohobigin_me", arguments: {} });
        assert.equal(res.isError ?? false, false, JSON.stringify(res));
        const primary = await primaryUser();
        assert.equal(res.structuredContent.result[0].id, primary.id);
        const grants = await grantsOf(minted.id);
        assert.equal(grants.length, 1);
        assert.equal(grants[0].user_email, primary.email);
        if (c.cimd) {
          assert.equal(grants[0].client_id, clientId, "mcp-remote used the document URL as its client_id");
          assert.equal(grants[0].client_name, `mcp-remote (${c.name})`, "the name comes from the document");
          assert.ok(docs.fetches(clientId) >= 1, "the server fetched the document");
        } else {
          assert.match(grants[0].client_id, /^bmcp_client_/, "mcp-remote registered dynamically");
        }
      } finally {
        await client.close();
      }
    });
  }
});
