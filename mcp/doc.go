// Package mcp serves Zoho Bigin to MCP clients: one MCP server per minted
// URL, exposing exactly the tools that URL's config allows, over stateless
// streamable HTTP (POST /mcp/{token}) and legacy HTTP+SSE
// (/mcp/{token}/sse). It is built on github.com/modelcontextprotocol/go-sdk.
//
// Tools are data (see registry.go): each is declared once with its schemas,
// annotations and handler; schemas are encoded once per process, and a
// tool's result is encoded once and shared between its text content and its
// structured content.
package mcp
