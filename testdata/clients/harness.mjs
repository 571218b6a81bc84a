// Test harness: starts the sandbox Bigin (testdata/sandboxd) and the real
// bigin-mcp binary on free loopback ports, and talks to the admin API as
// an admin would. Every child process is killed at the end, even on failure.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";

const children = new Set();

export function killAll() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
  children.clear();
}
process.on("exit", killAll);

export function track(child) {
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run testdata/clients/run`);
  return v;
}

// startSandbox runs sandboxd and returns its URL, OAuth client and a
// control helper.
export async function startSandbox() {
  const child = track(spawn(need("SANDBOXD_BIN"), [], { stdio: ["pipe", "pipe", "inherit"] }));
  const line = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`sandboxd exited with ${code}`)));
  });
  const info = JSON.parse(line);
  const control = async (method, p) => {
    const res = await fetch(info.url + "/_sandboxd/" + p, { method });
    if (!res.ok) throw new Error(`sandboxd ${p}: ${res.status}`);
    return res.status === 204 ? null : res.json();
  };
  return { ...info, child, control };
}

// startServer runs `bigin-mcp serve` against the sandbox and waits for
// /healthz. With { tls: true } it serves HTTPS from the suite's own
// certificate pair (TLS_CERT, TLS_KEY; Node trusts its CA through
// NODE_EXTRA_CA_CERTS, set by ./run). env adds variables to the server's
// environment.
export async function startServer(sandbox, { tls = false, env: extra = {} } = {}) {
  const port = await freePort();
  const base = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), "bigin-mcp-clients-"));
  const adminToken = "bmcp_api_" + randomBytes(32).toString("base64url");
  // The sandbox's Zoho sends sign-ins only to registered redirect URIs,
  // as a real Zoho client does: this server's own callback.
  await sandbox.control("POST", "redirect-uri?uri=" + encodeURIComponent(base + "/oauth/zoho/callback"));
  const env = {
    PATH: process.env.PATH,
    BIGIN_MCP_ADDR: `127.0.0.1:${port}`,
    BIGIN_MCP_DATA_DIR: dataDir,
    BIGIN_MCP_PUBLIC_URL: base,
    BIGIN_MCP_ADMIN_TOKEN: adminToken,
    BIGIN_MCP_ZOHO_CLIENT_ID: sandbox.client_id,
    BIGIN_MCP_ZOHO_CLIENT_SECRET: sandbox.client_secret,
    BIGIN_MCP_DATACENTERS: JSON.stringify({ us: { accounts_url: sandbox.url, api_url: sandbox.url } }),
    BIGIN_MCP_LOG_LEVEL: "warn",
    ...(tls ? { BIGIN_MCP_TLS_CERT: need("TLS_CERT"), BIGIN_MCP_TLS_KEY: need("TLS_KEY") } : {}),
    ...extra,
  };
  const child = track(spawn(need("BIGIN_MCP_BIN"), ["serve"], { env, stdio: ["ignore", "inherit", "inherit"] }));
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bigin-mcp exited with ${child.exitCode}`);
    try {
      const res = await fetch(base + "/healthz");
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("bigin-mcp did not become healthy");
    await new Promise((r) => setTimeout(r, 50));
  }
  const admin = async (method, p, body, want) => {
    const res = await fetch(base + p, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (want !== undefined && res.status !== want) {
      throw new Error(`${method} ${p}: want ${want}, got ${res.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
  };
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  // tools returns the names of the tools an account's URLs offer under the
  // policy in query (e.g. "?methods=read"), sorted, as the REST face
  // publishes them: the suite asserts the inventory as published, so a new
  // tool costs it nothing.
  const tools = async (accountId, query = "") =>
    (await admin("GET", `/integrated-account/${accountId}/tools${query}`, undefined, 200)).result.map((t) => t.name).sort();
  return { base, adminToken, admin, tools, child, stop };
}
