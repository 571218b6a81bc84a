package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// pathCommand is the recorder function routeCommands puts before a
// command bash would not look up on PATH: a word with a slash (which bash
// runs from disk, empty PATH or not), or one built by expansion, quoting
// or globbing (which may become such a path). The recorder gets the word
// as bash expanded it.
const pathCommand = "__bigin_path"

// plainCommand is a command word bash looks up as it is written, on PATH
// (empty in the test, so it reaches command_not_found_handle) or among
// the functions and builtins.
var plainCommand = regexp.MustCompile(`^(?:[A-Za-z0-9_.+:@%,=-]+|\[)$`)

// assignmentWord is a word that assigns a variable before a command
// (NAME=…, NAME+=…, NAME[i]=…).
var assignmentWord = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=`)

// Reserved words seen where a command starts: after those of opensCommand
// another command starts; after those of endsCommand, and after the
// words that start a for, select or case, none does until the next
// operator or line.
var (
	opensCommand = map[string]bool{"if": true, "then": true, "else": true, "elif": true, "do": true, "while": true,
		"until": true, "!": true, "time": true, "{": true, "coproc": true}
	endsCommand = map[string]bool{"fi": true, "done": true, "esac": true, "}": true, "[[": true, "]]": true,
		"for": true, "select": true, "case": true, "in": true}
)

// routeCommands returns script with pathCommand put before every command
// word that is not a plain name, wherever a command starts: at the start
// of a line, after ; & | && || ( { and the reserved words that open a
// command, inside $( ), ` `, <( ) and >( ), after assignments and
// redirections. It reads the bash a documentation block uses; what it
// cannot read (an unterminated quote or substitution) is an error, so the
// block fails rather than run a command past the recorder. Where it is
// unsure whether a command starts, it assumes one does: at worst bash then
// refuses the block's syntax.
func routeCommands(script string) (string, error) {
	s := &shellScanner{src: script}
	if _, err := s.list(0, len(script), 0); err != nil {
		return "", err
	}
	slices.Sort(s.at)
	var b strings.Builder
	last := 0
	for _, at := range slices.Compact(s.at) {
		b.WriteString(script[last:at])
		b.WriteString(pathCommand + " ")
		last = at
	}
	b.WriteString(script[last:])
	return b.String(), nil
}

// shellScanner finds the command words of a script that go through the
// recorder (at: their offsets).
type shellScanner struct {
	src string
	at  []int
}

func (s *shellScanner) errorf(i int, format string, args ...any) error {
	line := 1 + strings.Count(s.src[:min(i, len(s.src))], "\n")
	return fmt.Errorf("line %d: "+format+" (the docs test reads a block's commands to record each; write it more plainly)", append([]any{line}, args...)...)
}

// list scans commands from i up to limit until the byte close (')', or
// 0 for limit itself) and returns the offset after it.
func (s *shellScanner) list(i, limit int, close byte) (int, error) {
	atCmd := true // a command starts at the next word
	var err error
	for {
		i = s.blanks(i, limit)
		if i >= limit {
			if close != 0 {
				return i, s.errorf(i, "a %q is not closed", close)
			}
			return i, nil
		}
		switch c := s.src[i]; {
		case c == '\n':
			atCmd = true
			i++
		case c == '#':
			for i < limit && s.src[i] != '\n' {
				i++
			}
		case c == close:
			return i + 1, nil
		case c == '&' && i+1 < limit && s.src[i+1] == '>': // &> and &>> redirect
			if i, err = s.redirect(i+1, limit); err != nil {
				return i, err
			}
		case c == ';' || c == '&' || c == '|':
			for i < limit && strings.IndexByte(";&|", s.src[i]) >= 0 {
				i++
			}
			atCmd = true
		case c == '(' && i+1 < limit && s.src[i+1] == '(': // (( arithmetic ))
			if i, err = s.arith(i+2, limit); err != nil {
				return i, err
			}
			atCmd = true
		case c == '(':
			if j := s.blanks(i+1, limit); j < limit && s.src[j] == ')' { // name () body
				i, atCmd = j+1, true
				continue
			}
			// A subshell, or a case pattern's group: a command follows
			// either way (after a subshell only an operator may, which
			// this reads the same).
			if i, err = s.list(i+1, limit, ')'); err != nil {
				return i, err
			}
			atCmd = true
		case c == ')': // the end of a case pattern
			atCmd = true
			i++
		case (c == '<' || c == '>') && i+1 < limit && s.src[i+1] == '(': // process substitution
			if atCmd {
				s.at = append(s.at, i) // its /dev/fd path would be the command
				atCmd = false
			}
			if i, err = s.list(i+2, limit, ')'); err != nil {
				return i, err
			}
		case c == '<' || c == '>':
			if i, err = s.redirect(i, limit); err != nil {
				return i, err
			}
		default:
			start := i
			if i, err = s.word(i, limit); err != nil {
				return i, err
			}
			w := s.src[start:i]
			switch {
			case !atCmd:
				if w == "{" { // function f { … }, or f() { … } read above
					atCmd = true
				}
			case i < limit && (s.src[i] == '<' || s.src[i] == '>') && strings.Trim(w, "0123456789") == "":
				// the file descriptor of a redirection
			case assignmentWord.MatchString(w):
			case opensCommand[w]:
			case endsCommand[w]:
				atCmd = false
			case w == "function":
				i = s.blanks(i, limit)
				if i, err = s.word(i, limit); err != nil { // its name; its body opens a command
					return i, err
				}
			default:
				if !plainCommand.MatchString(w) {
					s.at = append(s.at, start)
				}
				atCmd = false
			}
		}
	}
}

// blanks skips spaces, tabs and escaped newlines.
func (s *shellScanner) blanks(i, limit int) int {
	for i < limit {
		switch {
		case s.src[i] == ' ' || s.src[i] == '\t':
			i++
		case s.src[i] == '\\' && i+1 < limit && s.src[i+1] == '\n':
			i += 2
		default:
			return i
		}
	}
	return i
}

// word scans one word from i and returns the offset after it.
func (s *shellScanner) word(i, limit int) (int, error) {
	start := i
	var err error
	for i < limit {
		switch c := s.src[i]; c {
		case ' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>':
			if c == '(' && i > start && assignmentWord.MatchString(s.src[start:i]) && s.src[i-1] == '=' { // NAME=( … )
				if i, err = s.array(i+1, limit); err != nil {
					return i, err
				}
				continue
			}
			return i, nil
		case '\\':
			i += 2
		case '\'':
			j := strings.IndexByte(s.src[i+1:limit], '\'')
			if j < 0 {
				return i, s.errorf(i, "a ' is not closed")
			}
			i += j + 2
		case '"':
			if i, err = s.dquote(i+1, limit); err != nil {
				return i, err
			}
		case '`':
			if i, err = s.backquote(i, limit); err != nil {
				return i, err
			}
		case '$':
			if i, err = s.dollar(i, limit); err != nil {
				return i, err
			}
		default:
			i++
		}
	}
	return min(i, limit), nil
}

// dollar scans an expansion at i ($(…), $((…)), ${…}, $'…', $"…", or a
// plain $) and returns the offset after it.
func (s *shellScanner) dollar(i, limit int) (int, error) {
	next := func(k int) byte {
		if i+k < limit {
			return s.src[i+k]
		}
		return 0
	}
	switch {
	case next(1) == '(' && next(2) == '(':
		return s.arith(i+3, limit)
	case next(1) == '(':
		return s.list(i+2, limit, ')')
	case next(1) == '{':
		return s.brace(i+2, limit)
	case next(1) == '\'':
		for j := i + 2; j < limit; j++ {
			switch s.src[j] {
			case '\\':
				j++
			case '\'':
				return j + 1, nil
			}
		}
		return i, s.errorf(i, "a $' is not closed")
	case next(1) == '"':
		return s.dquote(i+2, limit)
	}
	return i + 1, nil
}

// dquote scans the inside of "…" from i and returns the offset after
// its closing quote.
func (s *shellScanner) dquote(i, limit int) (int, error) {
	var err error
	for i < limit {
		switch s.src[i] {
		case '"':
			return i + 1, nil
		case '\\':
			i += 2
		case '`':
			if i, err = s.backquote(i, limit); err != nil {
				return i, err
			}
		case '$':
			if i, err = s.dollar(i, limit); err != nil {
				return i, err
			}
		default:
			i++
		}
	}
	return i, s.errorf(i, `a " is not closed`)
}

// backquote scans `…` at i, whose inside is commands, and returns the
// offset after it.
func (s *shellScanner) backquote(i, limit int) (int, error) {
	for j := i + 1; j < limit; j++ {
		switch s.src[j] {
		case '\\':
			j++
		case '`':
			if _, err := s.list(i+1, j, 0); err != nil {
				return j, err
			}
			return j + 1, nil
		}
	}
	return i, s.errorf(i, "a ` is not closed")
}

// brace scans the inside of ${…} from i and returns the offset after
// its closing brace.
func (s *shellScanner) brace(i, limit int) (int, error) {
	var err error
	for i < limit {
		switch s.src[i] {
		case '}':
			return i + 1, nil
		case '\\':
			i += 2
		case '\'':
			j := strings.IndexByte(s.src[i+1:limit], '\'')
			if j < 0 {
				return i, s.errorf(i, "a ' is not closed")
			}
			i += j + 2
		case '"':
			i, err = s.dquote(i+1, limit)
		case '`':
			i, err = s.backquote(i, limit)
		case '$':
			i, err = s.dollar(i, limit)
		default:
			i++
		}
		if err != nil {
			return i, err
		}
	}
	return i, s.errorf(i, "a ${ is not closed")
}

// arith scans the inside of ((…)) from i and returns the offset after
// its closing parentheses.
func (s *shellScanner) arith(i, limit int) (int, error) {
	depth := 0
	var err error
	for i < limit {
		switch s.src[i] {
		case '(':
			depth++
			i++
		case ')':
			if depth > 0 {
				depth--
				i++
				continue
			}
			if i+1 < limit && s.src[i+1] == ')' {
				return i + 2, nil
			}
			return i, s.errorf(i, "a (( is closed by a single )")
		case '\\':
			i += 2
		case '\'':
			j := strings.IndexByte(s.src[i+1:limit], '\'')
			if j < 0 {
				return i, s.errorf(i, "a ' is not closed")
			}
			i += j + 2
		case '"':
			i, err = s.dquote(i+1, limit)
		case '`':
			i, err = s.backquote(i, limit)
		case '$':
			i, err = s.dollar(i, limit)
		default:
			i++
		}
		if err != nil {
			return i, err
		}
	}
	return i, s.errorf(i, "a (( is not closed")
}

// array scans the words of NAME=( … ) from i and returns the offset
// after its closing parenthesis.
func (s *shellScanner) array(i, limit int) (int, error) {
	var err error
	for {
		i = s.blanks(i, limit)
		switch {
		case i >= limit:
			return i, s.errorf(i, "an array ( is not closed")
		case s.src[i] == ')':
			return i + 1, nil
		case s.src[i] == '\n':
			i++
		case s.src[i] == '#':
			for i < limit && s.src[i] != '\n' {
				i++
			}
		case strings.IndexByte(";&|(<>", s.src[i]) >= 0:
			return i, s.errorf(i, "an array holds %q", s.src[i])
		default:
			if i, err = s.word(i, limit); err != nil {
				return i, err
			}
		}
	}
}

// redirect scans a redirection operator at i and its target word, and
// returns the offset after them.
func (s *shellScanner) redirect(i, limit int) (int, error) {
	for _, op := range []string{"<<<", "<<-", "<<", "<&", "<>", ">>", ">&", ">|", "<", ">"} {
		if strings.HasPrefix(s.src[i:limit], op) {
			i += len(op)
			break
		}
	}
	i = s.blanks(i, limit)
	start := i
	i, err := s.word(i, limit)
	if err == nil && i == start {
		err = s.errorf(i, "a redirection has no target")
	}
	return i, err
}
