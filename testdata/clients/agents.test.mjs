// Agent frameworks' own MCP clients, with their default settings, against
// the real bigin-mcp binary: the OpenAI Agents SDK (MCPServerStreamableHttp,
// which speaks through @modelcontextprotocol/client 2.x and negotiates
// protocol 2026-07-28), run by the SDK's own runner with its scripted test
// model so that no OpenAI model is ever called, and a bare
// @modelcontextprotocol/client 2.x Client negotiating 2026-07-28. What the
// Agents SDK hands its model is read from the model request the runner
// built, so the SDK's own conversion of the MCP result is what is checked.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Agent, MCPServerStreamableHttp, run, setTracingDisabled } from "@openai/agents";
import { ScriptedModel, assistantMessage, functionCall } from "@openai/agents/testing";

import { killAll, startSandbox, startServer } from "./harness.mjs";

// The published inventory, read from the server in before().
let ALL_TOOLS;
const MODERN = "2026-07-28";

// No trace leaves the machine: the SDK would otherwise try to export its
// traces to OpenAI.
setTracingDisabled(true);

let sandbox;
let server; // the default configuration
let optIn; // with BIGIN_MCP_STRUCTURED_ONLY=true
let data; // the sandbox's records
const urls = {};

async function mintOn(srv) {
  const { refresh_token } = await sandbox.control("POST", "refresh-token");
  const account = await srv.admin("POST", "/admin/integrated-accounts", { name: "Agents suite", datacenter: "us", refresh_token }, 201);
  ALL_TOOLS ??= await srv.tools(account.id);
  return (await srv.admin("POST", `/admin/integrated-accounts/${account.id}/mcp`, { name: "agents", config: {} }, 201)).url;
}

before(async () => {
  sandbox = await startSandbox();
  server = await startServer(sandbox);
  optIn = await startServer(sandbox, { env: { BIGIN_MCP_STRUCTURED_ONLY: "true" } });
  urls.default = await mintOn(server);
  urls.optIn = await mintOn(optIn);
  data = await sandbox.control("GET", "data");
});

after(async () => {
  await server?.stop();
  await optIn?.stop();
  sandbox?.child.kill("SIGTERM");
  killAll();
});

// modelText is the text the model reads from a function call's output item,
// in either shape the runner builds (one text item, or a list of input
// items).
function modelText(output) {
  const items = Array.isArray(output) ? output : [output];
  return items
    .filter((i) => i.type === "text" || i.type === "input_text")
    .map((i) => i.text)
    .join("");
}

// splitFailure splits a failure's text block into its words and the JSON
// on its last line.
function splitFailure(text) {
  const at = text.lastIndexOf("\n");
  assert.ok(at > 0, `a failure's text has words, then JSON: ${text}`);
  return [text.slice(0, at), text.slice(at + 1)];
}

// runAgent runs an agent whose scripted model calls each tool in calls, in
// one turn, then answers; it returns what the second model request carried
// for each call (the tool outputs the model reads) and the first request's
// tools (what the model was offered).
async function runAgent(url, calls) {
  const mcp = new MCPServerStreamableHttp({ url, name: "bigin" });
  await mcp.connect();
  try {
    const listed = await mcp.listTools();
    const model = new ScriptedModel([
      calls.map(([name, args], i) => functionCall(name, args, { callId: `call_${i}` })),
      [assistantMessage("done")],
    ]);
    const agent = new Agent({ name: "Bigin assistant", instructions: "Answer from Zoho Bigin.", model, mcpServers: [mcp] });
    const result = await run(agent, "Who works here?");
    assert.equal(result.finalOutput, "done");
    model.assertComplete();
    const outputs = calls.map((_, i) => {
      const item = model.calls[1].request.input.find((it) => it.type === "function_call_result" && it.callId === `call_${i}`);
      assert.ok(item, `the model got the output of call_${i}`);
      return modelText(item.output);
    });
    const negotiated = mcp.underlying?.session?.getNegotiatedProtocolVersion?.();
    return { listed, offered: model.calls[0].request.tools, outputs, negotiated };
  } finally {
    await mcp.close();
  }
}

describe("OpenAI Agents SDK (MCPServerStreamableHttp, default options)", () => {
  test("lists the tools, and the model reads each tool's JSON", async () => {
    const { listed, offered, outputs, negotiated } = await runAgent(urls.default, [
      ["list_all_zohobigin_users", { limit: 3 }],
      ["list_all_zohobigin_current_organization", {}],
      ["get_single_zohobigin_user_by_id", { id: "999999999999" }],
    ]);
    assert.equal(negotiated, MODERN, "the SDK negotiated 2026-07-28 (through @modelcontextprotocol/client 2.x)");
    assert.deepEqual(listed.map((t) => t.name).sort(), ALL_TOOLS);
    assert.deepEqual(offered.map((t) => t.name).sort(), ALL_TOOLS, "every tool is offered to the model");
    for (const t of offered) {
      for (const [name, p] of Object.entries(t.parameters.properties ?? {})) {
        assert.equal(typeof p.type, "string", `${t.name}.${name} has one type, as one-type dialects (Gemini) need`);
      }
    }

    const users = JSON.parse(outputs[0]);
    assert.equal(users.result.length, 3, outputs[0]);
    const known = new Set(data.user_ids);
    for (const u of users.result) assert.ok(known.has(u.id), `user ${u.id} is the sandbox's`);
    assert.equal(typeof users.next_cursor, "string");

    assert.deepEqual(JSON.parse(outputs[1]), { result: [data.org], next_cursor: null });

    // A failure reads as what happened and what to do, then its JSON.
    const [words, json] = splitFailure(outputs[2]);
    assert.match(words, /\S/, outputs[2]);
    assert.equal(typeof JSON.parse(json).error.code, "string", outputs[2]);
  });

  test("with the opt-in BIGIN_MCP_STRUCTURED_ONLY the model reads an empty list: the clients that setting breaks", async () => {
    const { outputs, negotiated } = await runAgent(urls.optIn, [["list_all_zohobigin_users", { limit: 3 }]]);
    assert.equal(negotiated, MODERN);
    assert.equal(outputs[0], "[]");
  });
});

describe("@modelcontextprotocol/client 2.x negotiating 2026-07-28", () => {
  test("gets the text block and structuredContent, the same JSON", async () => {
    const client = new Client({ name: "bigin-mcp-client-suite", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new StreamableHTTPClientTransport(new URL(urls.default)));
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ALL_TOOLS);

      const res = await client.callTool({ name: "list_all_zohobigin_users", arguments: { limit: 3 } });
      assert.equal(res.isError ?? false, false, JSON.stringify(res));
      assert.equal(res.content.length, 1, "one text block");
      assert.equal(res.content[0].type, "text");
      assert.deepEqual(JSON.parse(res.content[0].text), res.structuredContent);
      assert.equal(res.structuredContent.result.length, 3);

      const fail = await client.callTool({ name: "get_single_zohobigin_user_by_id", arguments: { id: "999999999999" } });
      assert.equal(fail.isError, true);
      assert.equal(fail.content.length, 1);
      assert.equal(typeof fail.structuredContent.error.code, "string");
      const [words, json] = splitFailure(fail.content[0].text);
      assert.match(words, /\S/);
      assert.deepEqual(JSON.parse(json), fail.structuredContent);
    } finally {
      await client.close();
    }
  });
});
