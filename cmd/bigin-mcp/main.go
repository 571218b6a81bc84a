// Command bigin-mcp is the bigin-mcp server: a self-hosted, multi-tenant
// remote MCP server for Zoho Bigin.
//
// Usage:
//
//	bigin-mcp [serve] [flags]   run the production server (the default)
//	bigin-mcp demo [flags]      run against an embedded sandbox Bigin
//	bigin-mcp healthcheck       exit 0 if the local server answers /healthz
//	bigin-mcp migrate --from <bbolt path> --to etcd
//	                            copy a bbolt file into etcd (resumable)
//	bigin-mcp version           print the version
//	bigin-mcp help [command]    list the commands, or a command's flags
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one sub-command. Dispatch and every usage text read the one
// table, commands, so a command added there is listed everywhere.
type command struct {
	name    string
	summary string // one line, lower case, no final period
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

// commands is the command table, in the order help lists it.
func commands() []command {
	return []command{
		{"serve", "run the production server (the default command)", runServe},
		{"demo", "run the server against an embedded sandbox Bigin; no Zoho account needed", demo},
		{"healthcheck", "exit 0 when the server on this machine answers /healthz (Docker's HEALTHCHECK)", healthcheck},
		{"migrate", "copy a bbolt data file into etcd: migrate --from <bbolt path> --to etcd (idempotent, resumable)", migrate},
		{"version", "print the version", runVersion},
		{"help", "list the commands, or show one command's flags: bigin-mcp help <command>", nil},
	}
}

// cli runs the command line and returns the process's exit code: 0 on
// success or when help was asked for, 2 for a usage mistake (already
// explained on stderr), 1 when the command failed.
func cli(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := run(ctx, args, getenv, stdout, stderr)
	var help *helpRequest
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		help.print(stdout)
		return 0
	case errors.As(err, &usage):
		return 2
	case errors.Is(err, errUnhealthy):
		return 1 // explained on stderr; what Docker's HEALTHCHECK reads as unhealthy
	}
	fmt.Fprintln(stderr, "bigin-mcp:", err)
	return 1
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help":
			return &helpRequest{print: printCommands}
		case a == "help":
			return helpFor(ctx, args[1:], stderr)
		case a != "" && a[0] != '-':
			name, args = a, args[1:]
		}
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(ctx, args, getenv, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "bigin-mcp: unknown command %q\n\n", name)
	printCommands(stderr)
	return &usageError{err: fmt.Errorf("unknown command %q", name)}
}

// helpFor answers `bigin-mcp help [command]`.
func helpFor(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" {
		return &helpRequest{print: printCommands}
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			// The command's own --help prints its flags.
			return c.run(ctx, []string{"--help"}, func(string) string { return "" }, io.Discard, stderr)
		}
	}
	fmt.Fprintf(stderr, "bigin-mcp: unknown command %q\n\n", args[0])
	printCommands(stderr)
	return &usageError{err: fmt.Errorf("unknown command %q", args[0])}
}

func runServe(ctx context.Context, args []string, getenv func(string) string, _, stderr io.Writer) error {
	cfg, err := parseConfig("bigin-mcp serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stderr, nil)
}

func runVersion(_ context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	if err := parseFlags(newFlagSet("version", stderr), args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "bigin-mcp", buildVersion())
	return nil
}

// helpRequest is returned when help was asked for; cli prints it to
// stdout and exits 0.
type helpRequest struct{ print func(io.Writer) }

func (*helpRequest) Error() string { return "help requested" }

// usageError is a mistake on the command line whose explanation and usage
// were already printed to stderr.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// newFlagSet returns the flag set of a command (named "bigin-mcp <name>"),
// writing errors to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bigin-mcp "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args with fs and allows no positional arguments.
// --help gives a helpRequest for the command's usage; a bad flag or an
// extra argument is printed once to stderr, followed by the usage, and
// gives a usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.Usage = func() {} // printed below, once, where it belongs
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return &helpRequest{print: func(w io.Writer) { printUsage(w, fs) }}
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintln(fs.Output(), err)
	}
	if err != nil { // the flag package has printed err itself
		fmt.Fprintln(fs.Output())
		printUsage(fs.Output(), fs)
		return &usageError{err: err}
	}
	return nil
}

// printUsage prints a command's usage: what it does, its flags, and every
// command.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	name := strings.TrimPrefix(fs.Name(), "bigin-mcp ")
	summary := ""
	for _, c := range commands() {
		if c.name == name {
			summary = c.summary
		}
	}
	fmt.Fprintf(w, "Usage: bigin-mcp %s [flags]\n\n", name)
	if summary != "" {
		fmt.Fprintf(w, "%s%s.\n\n", strings.ToUpper(summary[:1]), summary[1:])
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "Flags:")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
		fmt.Fprintln(w)
	}
	printCommandTable(w)
}

// printCommands prints the top-level help: every command.
func printCommands(w io.Writer) {
	fmt.Fprint(w, "bigin-mcp is a self-hosted, multi-tenant remote MCP server for Zoho Bigin.\n\nUsage: bigin-mcp [command] [flags]\n\n")
	printCommandTable(w)
	fmt.Fprint(w, "\nRun \"bigin-mcp <command> --help\" for a command's flags; the README has the rest.\n")
}

func printCommandTable(w io.Writer) {
	fmt.Fprintln(w, "Commands:")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
}
