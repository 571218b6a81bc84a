// Package mcp serves Zoho Bigin to MCP clients: one MCP server per minted
// URL, exposing exactly the tools that URL's config allows, over stateless
// streamable HTTP (POST /mcp/{token}) and legacy HTTP+SSE
// (/mcp/{token}/sse). It is built on github.com/modelcontextprotocol/go-sdk.
//
// Open SSE streams are capped per URL and in total (Options.MaxSSEStreams,
// Options.MaxSSEStreamsPerURL); past a cap a stream is refused with 429
// and Retry-After, and Handler.SSEStreams reports the counts. Each
// session holds at most Options.MaxSSEAnswersInFlight answers its stream
// has not taken, and a stream whose client takes no write within
// Options.SSEWriteTimeout ends with its session (ssesession.go).
//
// A POST's body must be one JSON-RPC message that the go-sdk answers as
// sent (message.go): batches, inexact ids and non-messages are refused
// before anything runs, and the go-sdk's own errors get JSON-RPC's codes
// and clipped messages on the way out (rpcerrors.go).
//
// Tools are data (declared in internal/catalog): each is declared once with
// its schemas, annotations and handler; schemas are encoded once per
// process. A tool's result is written once (result.go): the text block's
// escaping and the structured content's bytes in one pass. Every result
// carries both blocks unless Options.StructuredOnly (an opt-in) leaves
// the text block out for clients on protocol 2026-07-28.
//
// Clients differ, so the endpoints are tolerant where the go-sdk is strict
// and explicit where it is terse: a POST accepting only JSON or only an
// event stream is served in that format; every 4xx answer is a JSON-RPC
// error (id null when the request's id is unknown) with the HTTP status
// and the admin API's error code in its data; the legacy SSE stream sends
// a keep-alive comment every 15 s so proxies keep it open.
package mcp
