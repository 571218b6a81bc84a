// A LangChain.js agent over bigin-mcp's REST face: it fetches the
// account's tools from GET /integrated-account/{id}/tools, turns each into
// a LangChain structured tool that POSTs to /tools/{name}, and runs an
// agent loop. The chat model is scripted (no LLM needed): it lists users,
// then gets the first one. A 429 from Zoho is handled in the tool: it
// waits for Retry-After (capped by MAX_RETRY_WAIT_SECONDS) and retries
// once, since the server never retries.
//
//   BIGIN_MCP_URL=http://127.0.0.1:8080 BIGIN_MCP_API_TOKEN=bmcp_api_… \
//   BIGIN_ACCOUNT_ID=… node agent.mjs
//
// It prints one JSON line: the answer, the tool calls made and the 429s
// seen.
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";

const base = need("BIGIN_MCP_URL").replace(/\/$/, "");
const token = need("BIGIN_MCP_API_TOKEN");
const account = need("BIGIN_ACCOUNT_ID");
const maxWait = Number(process.env.MAX_RETRY_WAIT_SECONDS ?? "60");
const headers = { Authorization: `Bearer ${token}` };
const stats = { calls: [], rateLimited: 0 };

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// callTool runs one tool over REST. Its result is what the model reads:
// the tool's JSON, or the error shape (with Zoho's code and message) when
// the call failed.
async function callTool(name, args) {
  stats.calls.push(name);
  const url = `${base}/integrated-account/${account}/tools/${name}`;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify(args ?? {}),
    });
    const text = await res.text();
    if (res.status === 429 && attempt === 1) {
      stats.rateLimited++;
      const wait = Math.min(Number(res.headers.get("retry-after") ?? "1"), maxWait);
      console.error(
        `${name}: Zoho's rate limit (limit ${res.headers.get("ratelimit-limit")}, remaining ${res.headers.get("ratelimit-remaining")}, ` +
          `reset in ${res.headers.get("ratelimit-reset")} s); retrying in ${wait} s`,
      );
      await new Promise((r) => setTimeout(r, wait * 1000));
      continue;
    }
    return text;
  }
}

// loadTools turns the account's tools into LangChain structured tools.
async function loadTools() {
  const res = await fetch(`${base}/integrated-account/${account}/tools?methods=read`, { headers });
  if (!res.ok) throw new Error(`GET /tools: ${res.status} ${await res.text()}`);
  const { result } = await res.json();
  return result.map((def) =>
    tool((args) => callTool(def.name, args), { name: def.name, description: def.description, schema: def.input_schema }),
  );
}

// ScriptedChatModel answers from a script instead of an LLM: script gets
// the conversation and returns the next AI message.
class ScriptedChatModel extends BaseChatModel {
  constructor(script) {
    super({});
    this.script = script;
  }
  _llmType() {
    return "scripted";
  }
  bindTools() {
    return this;
  }
  async _generate(messages) {
    const message = this.script(messages);
    return { generations: [{ text: typeof message.content === "string" ? message.content : "", message }] };
  }
}

let step = 0;
function script(messages) {
  const last = messages[messages.length - 1];
  step++;
  if (step === 1) {
    return new AIMessage({ content: "", tool_calls: [{ id: "call_1", name: "list_all_zohobigin_users", args: { limit: 5, type: "ActiveUsers" } }] });
  }
  const out = JSON.parse(last.content);
  if (out.error) return new AIMessage(`The call failed: ${out.error.code}: ${out.error.message}`);
  if (step === 2) {
    return new AIMessage({ content: "", tool_calls: [{ id: "call_2", name: "get_single_zohobigin_user_by_id", args: { id: out.result[0].id } }] });
  }
  return new AIMessage(`The first active user is ${out.result.full_name} <${out.result.email}>.`);
}

const tools = await loadTools();
const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
const model = new ScriptedChatModel(script).bindTools(tools); // the scripted model
// const model = new ChatOpenAI({ model: "gpt-4.1" }).bindTools(tools); // a real one (npm i @langchain/openai)

const messages = [new HumanMessage("Who is the first active user of our Bigin organization?")];
let answer = null;
for (let turn = 0; turn < 10 && answer === null; turn++) {
  const ai = await model.invoke(messages);
  messages.push(ai);
  if (!ai.tool_calls?.length) {
    answer = ai.content;
    break;
  }
  for (const call of ai.tool_calls) {
    const t = byName[call.name];
    const content = t ? await t.invoke(call.args) : JSON.stringify({ error: { code: "not_found", message: `no tool ${call.name}` } });
    messages.push(new ToolMessage({ content, tool_call_id: call.id }));
  }
}
console.log(JSON.stringify({ answer, tools: tools.map((t) => t.name), calls: stats.calls, rate_limited: stats.rateLimited }));
