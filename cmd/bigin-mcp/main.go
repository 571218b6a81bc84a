// Command bigin-mcp is the bigin-mcp server: a self-hosted, multi-tenant
// remote MCP server for Zoho Bigin.
//
// Usage:
//
//	bigin-mcp [serve] [flags]   run the production server (the default)
//	bigin-mcp demo [flags]      run against an embedded sandbox Bigin
//	bigin-mcp healthcheck       exit 0 if the local server answers /healthz
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUnhealthy):
		os.Exit(1) // what Docker's HEALTHCHECK reads as unhealthy
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "bigin-mcp:", err)
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
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "bigin-mcp", buildVersion())
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve, demo, healthcheck or version)", cmd)
	}
}
