package ui

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"
)

// term runs a model in a real Program (teatest) with the ASCII profile and
// plays the program's output into a terminal emulator, so tests read what
// a terminal would show rather than the renderer's byte stream, which only
// redraws the cells that changed.
type term struct {
	tm   *teatest.TestModel
	emu  *vt.Emulator
	w, h int
}

func runTerm(t testing.TB, m tea.Model, w, h int) *term {
	t.Helper()
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	emu := vt.NewEmulator(w, h)
	drained := make(chan struct{})
	go func() {
		// The emulator answers the program's queries on a pipe that must
		// be read; the program's input is a buffer, so the answers go
		// nowhere.
		defer close(drained)
		_, _ = io.Copy(io.Discard, emu)
	}()
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		// Closing the answers' pipe ends the reader. (Emulator.Close would
		// race with Read in vt v0.1.0: it sets an unguarded flag.)
		if c, ok := emu.InputPipe().(io.Closer); ok {
			_ = c.Close()
			<-drained
		}
	})
	return &term{tm: tm, emu: emu, w: w, h: h}
}

// screen plays the output written since the last call into the emulator
// and returns the screen, h lines without trailing spaces.
func (tt *term) screen() string {
	buf := make([]byte, 64<<10)
	for {
		n, err := tt.tm.Output().Read(buf)
		if n > 0 {
			// Without a TTY for input, Bubble Tea expects the terminal to
			// turn "\n" into "\r\n" (termios ONLCR), as a cooked tty does.
			_, _ = tt.emu.Write(bytes.ReplaceAll(buf[:n], []byte("\n"), []byte("\r\n")))
		}
		if err != nil || n == 0 {
			break
		}
	}
	return normalize(tt.emu.String(), tt.h)
}

// waitScreen polls the screen every millisecond until ok accepts it.
func (tt *term) waitScreen(t testing.TB, timeout time.Duration, ok func(string) bool) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	var s string
	for time.Since(start) < timeout {
		if s = tt.screen(); ok(s) {
			return s, time.Since(start)
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("screen not as expected after %s:\n%s", timeout, s)
	return s, 0
}

// normalize cuts or pads s to h lines and trims trailing spaces.
func normalize(s string, h int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines[:h], "\n")
}

// plain is a view as a terminal without colours shows it.
func plain(v tea.View, h int) string { return normalize(ansi.Strip(v.Content), h) }

// column returns the cells of columns [from, to) of each line of screen.
func column(screen string, from, to int) string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		r := []rune(l)
		out = append(out, string(r[min(from, len(r)):min(to, len(r))]))
	}
	return strings.Join(out, "\n")
}
