// Command bigin-mcp is the bigin-mcp server: a self-hosted, multi-tenant
// remote MCP server for Zoho Bigin.
//
// Usage:
//
//	bigin-mcp [serve] [flags]   run the production server (the default)
//	bigin-mcp demo [flags]      run against an embedded sandbox Bigin
//	bigin-mcp migrate --from <bbolt path> --to etcd
//	                            copy a bbolt file into etcd (resumable)
//	bigin-mcp version           print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bigin-mcp:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseConfig("bigin-mcp serve", args, getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr, nil)
	case "demo":
		return demo(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "bigin-mcp", version)
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve, demo, migrate or version)", cmd)
	}
}
