package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// cliBound is how long runCLI lets a command run: the commands it runs
// exit by themselves, so one still running (a server that started when
// it should have refused) is stopped and reported instead of hanging.
const cliBound = 20 * time.Second

// runCLI runs the command line as main does and returns its exit code and
// output.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliBound)
	defer cancel()
	var stdout, stderr syncBuffer
	code := cli(ctx, args, envOf(env), &stdout, &stderr)
	if ctx.Err() != nil {
		t.Errorf("bigin-mcp %s was still running after %s; it should have exited by itself", strings.Join(args, " "), cliBound)
	}
	return code, stdout.String(), stderr.String()
}

// assertListsEveryCommand: the help names every command of the table with
// its one-line description.
func assertListsEveryCommand(t *testing.T, out string) {
	t.Helper()
	for _, c := range commands() {
		assert.Regexp(t, `(?m)^  `+c.name+` +`+regexp.QuoteMeta(c.summary)+`$`, out, "lists %s", c.name)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args  []string
		usage string // the command whose flags are shown, "" for the overview
		flag  string // one of its flags
	}{
		{[]string{"--help"}, "", ""},
		{[]string{"-h"}, "", ""},
		{[]string{"help"}, "", ""},
		{[]string{"help", "help"}, "", ""},
		{[]string{"serve", "--help"}, "serve", "-public-url"},
		{[]string{"serve", "-h"}, "serve", "-public-url"},
		{[]string{"help", "serve"}, "serve", "-public-url"},
		{[]string{"demo", "--help"}, "demo", "-data-dir"},
		{[]string{"help", "demo"}, "demo", "-data-dir"},
		{[]string{"version", "--help"}, "version", ""},
		{[]string{"help", "version"}, "version", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			assert.Equal(t, 0, code, "asking for help is not an error")
			assert.Empty(t, stderr)
			assertListsEveryCommand(t, stdout)
			if tt.usage != "" {
				assert.Contains(t, stdout, "Usage: bigin-mcp "+tt.usage+" [flags]")
				assert.Contains(t, stdout, tt.flag)
			} else {
				assert.Contains(t, stdout, `Run "bigin-mcp <command> --help"`)
			}
		})
	}
}

// TestHelpNeverShowsSecrets: flags' defaults in the help are the built-in
// ones, never the values of the variables (which hold secrets).
func TestHelpNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"BIGIN_MCP_ADMIN_TOKEN":        "bmcp_api_this-must-not-be-printed",
		"BIGIN_MCP_ZOHO_CLIENT_SECRET": "zoho-secret-must-not-be-printed",
		"BIGIN_MCP_SECRET_KEY":         "c2VjcmV0LWtleS1tdXN0LW5vdC1iZS1wcmludGVkISE=",
	}
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "--bogus"}} {
		_, stdout, stderr := runCLI(t, env, args...)
		for _, v := range env {
			assert.NotContains(t, stdout+stderr, v)
		}
	}
}

func TestBadFlagIsPrintedOnceThenTheUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		command string
		err     string
	}{
		{[]string{"serve", "--bogus"}, "serve", "flag provided but not defined: -bogus"},
		{[]string{"--bogus"}, "serve", "flag provided but not defined: -bogus"},
		{[]string{"demo", "--bogus"}, "demo", "flag provided but not defined: -bogus"},
		{[]string{"version", "--bogus"}, "version", "flag provided but not defined: -bogus"},
		{[]string{"serve", "--addr"}, "serve", "flag needs an argument: -addr"},
		{[]string{"serve", "extra"}, "serve", `unexpected argument "extra"`},
		{[]string{"version", "extra"}, "version", `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, tt.err), "the error once: %s", stderr)
			assert.True(t, strings.HasPrefix(stderr, tt.err+"\n"), "the error first: %s", stderr)
			assert.Less(t, strings.Index(stderr, tt.err), strings.Index(stderr, "Usage: bigin-mcp "+tt.command+" [flags]"), "then the usage")
			assertListsEveryCommand(t, stderr)
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"frobnicate"}, {"help", "frobnicate"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		assert.Equal(t, 2, code)
		assert.Empty(t, stdout)
		assert.Equal(t, 1, strings.Count(stderr, `unknown command "frobnicate"`))
		assertListsEveryCommand(t, stderr)
	}
}

func TestVersionAndFailures(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCLI(t, nil, "version")
	assert.Equal(t, 0, code)
	assert.Equal(t, "bigin-mcp "+buildVersion()+"\n", stdout)

	// A failing command's error is printed once, naming the variable once.
	code, stdout, stderr := runCLI(t, map[string]string{"BIGIN_MCP_LOG_LEVEL": "loud"}, "serve")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "bigin-mcp: BIGIN_MCP_LOG_LEVEL: \"loud\" is not one of debug, info, warn, error\n", stderr)
}
