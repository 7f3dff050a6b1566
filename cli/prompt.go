package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/channelgate/channelgate/tokenstore"
)

// checkPasswordLength refuses a password shorter than any site accepts
// (a site may ask for more; it then says so).
func checkPasswordLength(pw string) error {
	if len(pw) < tokenstore.DefaultMinPasswordLen {
		return fmt.Errorf("password must be at least %d characters", tokenstore.DefaultMinPasswordLen)
	}
	return nil
}

// terminal returns standard input's descriptor if it is a terminal.
func (c *cli) terminal() (int, bool) {
	f, ok := c.cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

// readLine reads one line of standard input, without its line ending.
func (c *cli) readLine(what string) (string, error) {
	if c.input == nil {
		c.input = bufio.NewReader(c.cmd.InOrStdin())
	}
	line, err := c.input.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("no %s on standard input", what)
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// ask prompts for a value on a terminal; elsewhere the flag is required.
func (c *cli) ask(prompt, flag string) (string, error) {
	if _, ok := c.terminal(); !ok {
		return "", fmt.Errorf("%s is required when standard input is not a terminal", flag)
	}
	fmt.Fprint(c.stderr(), prompt)
	return c.readLine(flag)
}

// password prompts for a password without echo on a terminal, or reads
// it as one line of standard input.
func (c *cli) password(prompt string) (string, error) {
	var pw string
	if fd, ok := c.terminal(); ok {
		fmt.Fprint(c.stderr(), prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(c.stderr())
		if err != nil {
			return "", err
		}
		pw = string(b)
	} else {
		var err error
		if pw, err = c.readLine("password"); err != nil {
			return "", err
		}
	}
	if pw == "" {
		return "", errors.New("empty password")
	}
	return pw, nil
}

// newPassword asks for a new password and its confirmation: twice on a
// terminal, once (as both) from standard input. A password shorter than
// any site accepts is refused before the confirmation is asked.
func (c *cli) newPassword() (string, string, error) {
	pw, err := c.password("New password: ")
	if err != nil {
		return "", "", err
	}
	if err := checkPasswordLength(pw); err != nil {
		return "", "", err
	}
	if _, ok := c.terminal(); !ok {
		return pw, pw, nil
	}
	confirm, err := c.password("Repeat it: ")
	return pw, confirm, err
}
