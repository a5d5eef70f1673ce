package guard

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

// FuzzReadHead feeds the probe's response parser whatever a server might
// send: it must return a status of three digits or an error, never panic
// and never read past maxHead.
func FuzzReadHead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\n\r\nok\n",
		"HTTP/1.0 404 Not Found\n\n",
		"HTTP/1.1 502\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("h", 3000) + "\r\n\r\n",
		"SSH-2.0-OpenSSH_9.2\r\n",
		"HTTP/1.1 20",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &countReader{r: strings.NewReader(string(b))}
		status, err := readHead(bufio.NewReaderSize(r, 1024))
		if err != nil {
			return
		}
		if len(status) < 3 {
			t.Fatalf("status %q: shorter than a code", status)
		}
		if _, err := strconv.Atoi(status[:3]); err != nil {
			t.Fatalf("status %q: no code: %v", status, err)
		}
		if r.n > maxHead+1024 {
			t.Fatalf("read %d bytes for the head, bound %d", r.n, maxHead)
		}
	})
}

type countReader struct {
	r *strings.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
