#!/usr/bin/env node
// A headless "browser" for the OAuth front door: it follows an
// authorization URL to the sandbox's Zoho sign-in (where bigin-mcp sends
// it at once: the org's region is known) and through bigin-mcp's consent
// page, as a person clicking through would, and stops at the client's
// redirect URI.
//
// As a module, follow() is used by the TypeScript SDK tests. As a program
// it is the browser mcp-remote opens (set as $BROWSER, which the xdg-open
// that mcp-remote's `open` runs honours): it follows its one argument all
// the way, including the final redirect to mcp-remote's own callback
// listener, which is how mcp-remote receives the code. Set BROWSER_DECISION
// to "deny" to deny at the consent page, and BROWSER_LOG to a file to
// record where the flow ended.
import { appendFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const consentRe = /<form[^>]*action="([^"]+)"[\s\S]*?name="consent" value="([^"]+)"/;

function unescapeHTML(s) {
  return s
    .replaceAll("&amp;", "&")
    .replaceAll("&#43;", "+")
    .replaceAll("&#34;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">");
}

// follow walks from url. It returns { redirect } (a URL) when the flow
// reached a URL starting with stopAt, or { status, page } when it ended on
// a page; visited lists every URL it requested, in order. decision is
// "approve" or "deny".
export async function follow(url, { stopAt, decision = "approve" } = {}) {
  let req = { url: String(url), init: { redirect: "manual" } };
  const visited = [];
  for (let step = 0; step < 20; step++) {
    if (stopAt && req.url.startsWith(stopAt)) return { redirect: new URL(req.url), visited };
    visited.push(req.url);
    const res = await fetch(req.url, { ...req.init, signal: AbortSignal.timeout(30000) });
    const loc = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && loc) {
      await res.body?.cancel();
      req = { url: new URL(loc, req.url).href, init: { redirect: "manual" } };
      continue;
    }
    const page = await res.text();
    if (res.status !== 200) return { status: res.status, page, visited };
    const consent = page.match(consentRe);
    if (consent) {
      const body = new URLSearchParams({ consent: unescapeHTML(consent[2]), decision });
      req = {
        url: new URL(unescapeHTML(consent[1]), req.url).href,
        init: { method: "POST", redirect: "manual", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body },
      };
      continue;
    }
    return { status: res.status, page, visited };
  }
  throw new Error("the authorization took more than 20 steps");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const log = (line) => {
    if (process.env.BROWSER_LOG) appendFileSync(process.env.BROWSER_LOG, line + "\n");
  };
  const target = process.argv[2];
  try {
    const got = await follow(target, { decision: process.env.BROWSER_DECISION || "approve" });
    log(`ended with status ${got.status ?? "redirect"}: ${(got.page ?? "").replace(/\s+/g, " ").slice(0, 300)}`);
  } catch (err) {
    log(`failed: ${err.message}`);
    process.exitCode = 1;
  }
}
