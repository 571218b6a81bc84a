package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shellBlock is one ```sh, ```bash or ```shell block of the documentation.
type shellBlock struct {
	file string // relative to the repository root
	line int    // of the opening fence
	text string
}

func (b shellBlock) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var (
	shellFence = regexp.MustCompile("^(\\s*)```(sh|bash|shell)\\s*$")
	closeFence = regexp.MustCompile("^\\s*```\\s*$")
)

// docShellBlocks returns every shell block of README.md and docs/*.md.
func docShellBlocks(t *testing.T) []shellBlock {
	t.Helper()
	root := filepath.Join("..", "..")
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	files := append([]string{filepath.Join(root, "README.md")}, docs...)
	var out []shellBlock
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, f)
		var cur *shellBlock
		indent := ""
		for i, line := range strings.Split(string(b), "\n") {
			switch {
			case cur == nil:
				if m := shellFence.FindStringSubmatch(line); m != nil {
					cur, indent = &shellBlock{file: filepath.ToSlash(rel), line: i + 1}, m[1]
				}
			case closeFence.MatchString(line):
				out = append(out, *cur)
				cur = nil
			default:
				cur.text += strings.TrimPrefix(line, indent) + "\n"
			}
		}
		require.Nil(t, cur, "%s: a shell block is not closed", rel)
	}
	return out
}

// A placeholder such as <id> or <MCP URL>: the reader replaces it, so the
// run does too (to bash it would be a redirection).
var placeholder = regexp.MustCompile(`<[A-Za-z][A-Za-z0-9 _.-]*[A-Za-z0-9]>|<[A-Za-z]>`)

// runnable turns a block into what the test runs: placeholders filled in,
// and every command word bash would not look up on PATH (a path, which
// bash runs from disk, or a word built by expansion) sent through the
// recorder, wherever a command starts (routeCommands).
func runnable(text string) (string, error) {
	return routeCommands(placeholder.ReplaceAllString(text, "PLACEHOLDER"))
}

// recorderPrelude makes every command a recorder: PATH is empty (and
// read-only), so bash hands each external command to
// command_not_found_handle, and the commands routeCommands marks go to
// __bigin_path; both write its argv, every BIGIN_MCP_* variable the shell
// holds, and those the command's environment receives (exported, or
// assigned in its prefix). The builtins that would run a command past
// them, or look one up elsewhere (exec, eval, command, builtin, source,
// ., trap, hash, mapfile, fc, enable), are disabled, so a block's use of
// them is recorded like any command; the recorder's functions are
// read-only. The documentation is ours, not hostile: this stops the
// ordinary ways a block runs a program, not one written to escape.
const recorderPrelude = `
__bigin_record() {
  # One write per record: the commands of a pipeline record at once.
  local __bigin_r
  __bigin_r=CALL$(printf '\x1f%s' "$@")
  __bigin_r+=$'\n'SET; for __bigin_v in $(compgen -v BIGIN_MCP_); do __bigin_r+=$'\x1f'$__bigin_v; done
  __bigin_r+=$'\n'ENV; for __bigin_v in $(compgen -e BIGIN_MCP_); do __bigin_r+=$'\x1f'$__bigin_v; done
  printf '%s\n' "$__bigin_r" >> "$__BIGIN_LOG"
  return 0
}
command_not_found_handle() { __bigin_record "$@"; }
` + pathCommand + `() { __bigin_record "$@"; }
readonly -f __bigin_record ` + pathCommand + ` command_not_found_handle
readonly PATH
enable -n exec eval command builtin source . trap hash mapfile readarray fc enable
`

// shellCall is one command a block ran.
type shellCall struct {
	argv     []string
	set, env []string // BIGIN_MCP_* names the shell held, and those the command received
}

// runShellBlock runs a block under bash with every command recorded and
// returns the calls, bash's stderr and its error.
func runShellBlock(t *testing.T, bash string, b shellBlock) ([]shellCall, string, error) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "no-commands")
	require.NoError(t, os.Mkdir(empty, 0o755))
	work := filepath.Join(dir, "work")
	require.NoError(t, os.Mkdir(work, 0o755))
	logPath := filepath.Join(dir, "calls")
	script := filepath.Join(dir, "block.sh")
	text, err := runnable(b.text)
	require.NoError(t, err, "%s: %s\n%s", b, err, b.text)
	require.NoError(t, os.WriteFile(script, []byte(recorderPrelude+text), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "--noprofile", "--norc", script)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + empty, "HOME=" + dir, "__BIGIN_LOG=" + logPath}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err = cmd.Run()

	var calls []shellCall
	f, ferr := os.Open(logPath)
	if errors.Is(ferr, os.ErrNotExist) {
		return nil, stderr.String(), err
	}
	require.NoError(t, ferr)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\x1f")
		switch fields[0] {
		case "CALL":
			calls = append(calls, shellCall{argv: fields[1:]})
		case "SET":
			calls[len(calls)-1].set = fields[1:]
		case "ENV":
			calls[len(calls)-1].env = fields[1:]
		}
	}
	require.NoError(t, sc.Err())
	return calls, stderr.String(), err
}

// binaryArgs returns the arguments of a call that runs bigin-mcp: the
// binary itself (by any path), or `go run ./cmd/bigin-mcp`.
func binaryArgs(argv []string) ([]string, bool) {
	switch {
	case len(argv) == 0:
		return nil, false
	case path.Base(argv[0]) == "bigin-mcp":
		return argv[1:], true
	case argv[0] == "go" && len(argv) >= 3 && argv[1] == "run" && strings.TrimSuffix(argv[2], "/") == "./cmd/bigin-mcp":
		return argv[3:], true
	}
	return nil, false
}

// usageOf returns `bigin-mcp <command> --help`, or an error for a command
// the binary does not have.
func usageOf(command string) (string, error) {
	err := run(context.Background(), []string{command, "--help"}, envOf(nil), io.Discard, io.Discard)
	var help *helpRequest
	if !errors.As(err, &help) {
		return "", fmt.Errorf("`bigin-mcp %s --help` did not print a usage: %v", command, err)
	}
	var b bytes.Buffer
	help.print(&b)
	return b.String(), nil
}

// checkBinaryCall checks one run of bigin-mcp: its command and flags are
// the binary's, every BIGIN_MCP_* variable the block assigned reaches it,
// and each it receives is a setting the server reads.
func checkBinaryCall(t assert.TestingT, b shellBlock, c shellCall, args []string) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	shown := "bigin-mcp " + strings.Join(args, " ")
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	}
	usage, err := usageOf(command)
	if !assert.NoError(t, err, "%s runs `%s`", b, shown) {
		return
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		assert.Regexp(t, `(?m)^  -`+regexp.QuoteMeta(name)+`( |$)`, usage, "%s runs `%s`: bigin-mcp %s has no flag --%s", b, shown, command, name)
	}
	settings := settingsByEnv()
	for _, name := range c.set {
		assert.Contains(t, c.env, name, "%s assigns %s, but `%s` does not receive it: the assignment is not exported or is cut off from the command "+
			"(a `# comment` after a line ending in `\\` ends the command there)", b, name, shown)
	}
	for _, name := range c.env {
		_, ok := settings[name]
		assert.True(t, ok, "%s gives `%s` %s, which is not a setting the server reads (config.go)", b, shown, name)
	}
}

// assignedVariable finds BIGIN_MCP_* names a block sets: in an assignment
// (also after export, or docker's -e).
var assignedVariable = regexp.MustCompile(`(?:^|[\s;&|(])(BIGIN_MCP_[A-Z0-9_]*[A-Z0-9])=`)

// TestShellBlocksInDocs runs every shell block of README.md and docs/*.md:
// bash parses it (bash -n); every BIGIN_MCP_* name it sets is a setting of
// the server (or a variable of another tool, otherVariables); and it runs
// under bash with every command replaced by a recorder, so that each run
// of bigin-mcp (or `go run ./cmd/bigin-mcp`) is checked: a command and
// flags the binary has, and every BIGIN_MCP_* variable assigned before it
// actually reaching it. Relative paths it runs are files of the
// repository or built by the block, and `go` package paths exist.
func TestShellBlocksInDocs(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	require.NoError(t, err, "the documentation's shell blocks are bash; this test needs bash on PATH")
	blocks := docShellBlocks(t)
	require.NotEmpty(t, blocks)
	settings := settingsByEnv()
	root := filepath.Join("..", "..")
	for _, b := range blocks {
		t.Run(strings.ReplaceAll(b.String(), "/", "_"), func(t *testing.T) {
			t.Parallel()
			script := filepath.Join(t.TempDir(), "block.sh")
			require.NoError(t, os.WriteFile(script, []byte(b.text), 0o644))
			out, err := exec.Command(bash, "-n", script).CombinedOutput()
			require.NoError(t, err, "%s is not valid bash: %s\n%s", b, out, b.text)

			for _, m := range assignedVariable.FindAllStringSubmatch(b.text, -1) {
				_, setting := settings[m[1]]
				_, other := otherVariables[m[1]]
				assert.True(t, setting || other, "%s sets %s, which is not a setting the server reads (config.go) nor in otherVariables", b, m[1])
			}

			calls, stderr, err := runShellBlock(t, bash, b)
			require.NoError(t, err, "%s fails under bash: %s\n%s", b, stderr, b.text)
			assert.Empty(t, stderr, "%s writes errors under bash\n%s", b, b.text)
			var built []string // paths written by `go build -o`
			for _, c := range calls {
				if args, ok := binaryArgs(c.argv); ok {
					checkBinaryCall(t, b, c, args)
				}
				switch name := c.argv[0]; {
				case name == "go":
					for i, a := range c.argv {
						if a == "-o" && i+1 < len(c.argv) {
							built = append(built, path.Clean(c.argv[i+1]))
						}
						if strings.HasPrefix(a, "./") && (i == 0 || c.argv[i-1] != "-o") {
							dir := strings.TrimSuffix(strings.TrimSuffix(a, "..."), "/")
							_, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir)))
							assert.NoError(t, err, "%s: `%s` names %s, which is not a directory of the repository", b, strings.Join(c.argv, " "), a)
						}
					}
				case path.IsAbs(name) || !filepath.IsLocal(filepath.FromSlash(name)):
					assert.Fail(t, "a command outside the repository", "%s runs %s: run a command by its name, or by a path in the repository", b, name)
				case strings.Contains(name, "/"):
					_, err := os.Stat(filepath.Join(root, filepath.FromSlash(name)))
					assert.True(t, err == nil || slices.Contains(built, path.Clean(name)),
						"%s runs %s, which is neither a file of the repository nor built earlier in the block", b, name)
				}
			}
		})
	}
}

// TestShellBlockRecorderCatchesAnAssignmentCutOff: the check of
// TestShellBlocksInDocs catches what it exists for. A `# comment` after a
// line ending in `\` ends the command, so the variables before it are
// plain shell variables and the server starts without them; the same
// block with the comment moved above passes.
func TestShellBlockRecorderCatchesAnAssignmentCutOff(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	require.NoError(t, err)
	broken := shellBlock{file: "broken.md", line: 1, text: "BIGIN_MCP_STORE=etcd \\\n" +
		"BIGIN_MCP_SECRET_KEY=$(cat secret.key)   # the same on every replica\n" +
		"bigin-mcp serve\n"}
	calls, stderr, err := runShellBlock(t, bash, broken)
	require.NoError(t, err, stderr)
	require.Len(t, calls, 2, "cat, then bigin-mcp")
	assert.Equal(t, []string{"bigin-mcp", "serve"}, calls[1].argv)
	assert.ElementsMatch(t, []string{"BIGIN_MCP_STORE", "BIGIN_MCP_SECRET_KEY"}, calls[1].set)
	assert.Empty(t, calls[1].env, "the server receives none of them")
	rec := &failures{}
	checkBinaryCall(rec, broken, calls[1], []string{"serve"})
	require.Len(t, rec.msgs, 2, "one failure per variable cut off")
	for _, m := range rec.msgs {
		assert.Contains(t, m, "does not receive it")
	}

	fixed := shellBlock{file: "fixed.md", line: 1, text: "# the same key on every replica\n" +
		"BIGIN_MCP_STORE=etcd \\\n" +
		"BIGIN_MCP_SECRET_KEY=$(cat secret.key) \\\n" +
		"bigin-mcp serve\n"}
	calls, stderr, err = runShellBlock(t, bash, fixed)
	require.NoError(t, err, stderr)
	require.Len(t, calls, 2)
	assert.ElementsMatch(t, []string{"BIGIN_MCP_STORE", "BIGIN_MCP_SECRET_KEY"}, calls[1].env, "both reach the server")
	rec = &failures{}
	checkBinaryCall(rec, fixed, calls[1], []string{"serve"})
	assert.Empty(t, rec.msgs)

	// A flag the command does not have, and a variable that is no
	// setting, are caught as well.
	rec = &failures{}
	checkBinaryCall(rec, fixed, shellCall{argv: []string{"bigin-mcp", "serve", "--adr", "x"}, set: []string{"BIGIN_MCP_PORT"}, env: []string{"BIGIN_MCP_PORT"}},
		[]string{"serve", "--adr", "x"})
	require.Len(t, rec.msgs, 2)
	assert.Contains(t, rec.msgs[0], "has no flag --adr")
	assert.Contains(t, rec.msgs[1], "BIGIN_MCP_PORT, which is not a setting")
}

// failures records what checkBinaryCall reports, for a test of the check.
type failures struct{ msgs []string }

func (f *failures) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

// TestShellBlockRecorderRunsNothingFromDisk: a block runs no program from
// disk, wherever its command stands: a program named by an absolute or
// relative path after |, &&, ||, ;, inside $( ), ` `, a subshell, a
// group, a condition, an assignment's substitution or a function, one
// named through a variable, and one handed to exec, eval or command, is
// recorded and does not run; a block that resets PATH fails.
func TestShellBlockRecorderRunsNothingFromDisk(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	require.NoError(t, err)
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker")
	ran := marker + ".ran"
	// Run, it leaves a file beside itself (with bash's own redirection:
	// PATH is empty).
	require.NoError(t, os.WriteFile(marker, []byte("#!"+bash+"\n: > \""+ran+"\"\n"), 0o755))

	tests := []struct{ name, block string }{
		{"after a pipe", "echo x | MARKER"},
		{"after &&", "true && MARKER"},
		{"after ||", "false || MARKER"},
		{"after ;", "true; MARKER"},
		{"after &", "true & MARKER"},
		{"after a line continued", "true && \\\n  MARKER"},
		{"in $( )", "echo $(MARKER)"},
		{"in quoted $( )", `echo "$(MARKER)"`},
		{"in backquotes", "echo `MARKER`"},
		{"in $( ) in an assignment", "X=$(MARKER) true"},
		{"in ${ } in an argument", `echo "${X:-$(MARKER)}"`},
		{"in $(( ))", "echo $(( $(MARKER) + 1 ))"},
		{"in a subshell", "(MARKER)"},
		{"in a group", "{ MARKER; }"},
		{"as a condition", "if MARKER; then :; fi"},
		{"negated", "! MARKER"},
		{"in a loop", "for i in 1; do MARKER; done"},
		{"in a case", "case x in x) MARKER ;; esac"},
		{"after an assignment", "X=1 MARKER"},
		{"after a redirection", "2>/dev/null MARKER"},
		{"in a function", "f() { MARKER; }; f"},
		{"in a function keyword", "function f { MARKER; }; f"},
		{"through a variable", "M=MARKER; $M"},
		{"quoted", `"MARKER"`},
		{"escaped", `\MARKER`},
		{"exec", "exec MARKER"},
		{"eval", "eval MARKER"},
		{"command", "command MARKER"},
		{"hash", "hash -p MARKER m; m"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := filepath.Join(dir, fmt.Sprint(i)) // t.TempDir would hold the name's & and $(
			require.NoError(t, os.Mkdir(d, 0o755))
			m := filepath.Join(d, "marker")
			require.NoError(t, os.WriteFile(m, []byte("#!"+bash+"\n: > \""+m+".ran\"\n"), 0o755))
			b := shellBlock{file: "hostile.md", line: 1, text: strings.ReplaceAll(tt.block, "MARKER", m) + "\nwait\n"}
			calls, stderr, err := runShellBlock(t, bash, b)
			require.NoError(t, err, stderr)
			_, statErr := os.Stat(m + ".ran")
			assert.ErrorIs(t, statErr, os.ErrNotExist, "%q ran the program from disk", b.text)
			recorded := slices.ContainsFunc(calls, func(c shellCall) bool { return slices.Contains(c.argv, m) })
			assert.True(t, recorded, "%q: the recorder has its call: %v", b.text, calls)
		})
	}

	// A relative path that climbs out of the block's directory.
	rel := shellBlock{file: "hostile.md", line: 1, text: "true && ../../../../../../../../../../.." + marker + "\n"}
	calls, stderr, err := runShellBlock(t, bash, rel)
	require.NoError(t, err, stderr)
	_, statErr := os.Stat(ran)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "the relative path ran the program")
	require.Len(t, calls, 1)
	assert.True(t, strings.HasSuffix(calls[0].argv[0], marker))

	// PATH cannot be given back.
	_, stderr, _ = runShellBlock(t, bash, shellBlock{file: "hostile.md", line: 1, text: "PATH=" + dir + "\nmarker\n"})
	assert.Contains(t, stderr, "PATH: readonly variable")
	_, statErr = os.Stat(ran)
	assert.ErrorIs(t, statErr, os.ErrNotExist, "a block that sets PATH ran the program")
}

// TestRouteCommands: what routeCommands sends through the recorder, and
// what it leaves to bash's own lookup (plain names, arguments, quoted
// data).
func TestRouteCommands(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"go test ./...", "go test ./..."},
		{"./bigin-mcp-load calls -c 32", "__bigin_path ./bigin-mcp-load calls -c 32"},
		{"X=1 testdata/clients/run", "X=1 __bigin_path testdata/clients/run"},
		{"curl -s $BASE/admin | /usr/bin/jq .", "curl -s $BASE/admin | __bigin_path /usr/bin/jq ."},
		{"a && /x || ./y; z/w & v", "a && __bigin_path /x || __bigin_path ./y; __bigin_path z/w & v"},
		{"echo $(/x) `./y` \"$(z/w)\"", "echo $(__bigin_path /x) `__bigin_path ./y` \"$(__bigin_path z/w)\""},
		{"cat <(/x) >(./y)", "cat <(__bigin_path /x) >(__bigin_path ./y)"},
		{"<(/x)", "__bigin_path <(__bigin_path /x)"},
		{"K=$(cat secret.key) \\\n  bigin-mcp serve", "K=$(cat secret.key) \\\n  bigin-mcp serve"},
		{"echo '/x; /y' \"a && /z\" # /w; /v", "echo '/x; /y' \"a && /z\" # /w; /v"},
		{"go build -o x ./cmd/x > out.json 2>&1", "go build -o x ./cmd/x > out.json 2>&1"},
		{"$CMD arg", "__bigin_path $CMD arg"},
		{"if /x; then ./y; else z; fi", "if __bigin_path /x; then __bigin_path ./y; else z; fi"},
		{"arr=(a /b $(./c)) d", "arr=(a /b $(__bigin_path ./c)) d"},
		{"echo $((1 + $(/x)))", "echo $((1 + $(__bigin_path /x)))"},
		{"f() { /x; }", "f() { __bigin_path /x; }"},
		{"jq -rs 'map(select(.A==\"p\")) | .[]' app.json", "jq -rs 'map(select(.A==\"p\")) | .[]' app.json"},
	}
	for _, tt := range tests {
		got, err := routeCommands(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"echo 'x", `echo "x`, "echo $(x", "echo `x", "echo ${x", "echo $((1+2)"} {
		_, err := routeCommands(bad)
		assert.Error(t, err, "%q cannot be read, so the block fails", bad)
	}
}
