// Command bigin-mcp-load measures what bigin-mcp costs on top of the MCP
// SDK it stands on, on loopback only, with bounded counts and durations.
//
// Every server under test runs in its own child process (this binary,
// re-executed in a hidden "target" mode), so its RSS and allocations are
// its own; the sandbox Bigin runs in the driver process.
//
// Modes:
//
//	bigin-mcp-load calls    [-tool users|records] [-c 32] [-n 2000] [-rounds 5] [-urls 100] [-structured-only]
//	                        ours vs bare go-sdk, fair floor and maps, interleaved; -tool records calls
//	                        list_zohobigin_records (50 contacts, default fields) instead of list_all_zohobigin_users
//	bigin-mcp-load urls     [-n 100000]                          RSS of a server holding N minted URLs
//	bigin-mcp-load sse      [-k 1000]                            memory per open SSE session
//	bigin-mcp-load accounts [-m 20] [-c 200]                     token refreshes under concurrent calls
//	bigin-mcp-load scale    [-c 32] [-n 2000] [-replicas 3]      3 replicas on etcd vs 1 on bbolt: calls/s, p99, mint latency
//
// It is a measuring tool, not a test: it asserts nothing about timings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bigin-mcp-load:", redact(err.Error()))
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("want a mode: calls, urls, sse, accounts, scale (see the package doc)")
	}
	mode, args := args[0], args[1:]
	switch mode {
	case "calls":
		return runCalls(ctx, args, out)
	case "urls":
		return runURLs(ctx, args, out)
	case "sse":
		return runSSE(ctx, args, out)
	case "accounts":
		return runAccounts(ctx, args, out)
	case "scale":
		return runScale(ctx, args, out)
	case targetMode:
		return runTarget(ctx, args)
	default:
		return fmt.Errorf("unknown mode %q (want calls, urls, sse, accounts or scale)", mode)
	}
}

// mcpToken matches an MCP URL token. Errors from the MCP client quote the
// URL they failed on, and a printed URL would hand out the token.
var mcpToken = regexp.MustCompile(`bmcp_[A-Za-z0-9_-]{43}`)

// redact hides every MCP URL token in s.
func redact(s string) string { return mcpToken.ReplaceAllString(s, "bmcp_…") }
