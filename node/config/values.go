package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// parseUint accepts decimal digits only, like keepalived's read_unsigned.
func parseUint(s string, lo, hi int) (int, bool) {
	if s == "" || len(s) > 10 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, false
	}
	return v, true
}

// parseInt accepts an optional sign and decimal digits.
func parseInt(s string, lo, hi int) (int, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	v, ok := parseUint(s, 0, max(-lo, hi))
	if !ok {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, v >= lo && v <= hi
}

// parseSeconds reads a decimal number of seconds such as "1", "0.5" or
// "2.25", with at most six decimals (keepalived keeps microseconds). It
// refuses signs, exponents and the like, which strconv.ParseFloat would take.
func parseSeconds(s string) (time.Duration, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 6 || dot && frac == "" {
		return 0, false
	}
	w := 0
	if whole != "" {
		var ok bool
		if w, ok = parseUint(whole, 0, 1<<31-1); !ok {
			return 0, false
		}
	}
	f := 0
	if frac != "" {
		var ok bool
		if f, ok = parseUint(frac, 0, 999999); !ok {
			return 0, false
		}
		for i := len(frac); i < 6; i++ {
			f *= 10
		}
	}
	return time.Duration(w)*time.Second + time.Duration(f)*time.Microsecond, true
}

// seconds formats d as keepalived's configuration writes it: "1", "0.5".
func seconds(d time.Duration) string {
	s := strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// splitCommand splits a string into words the way keepalived's
// alloc_strvec_quoted_escaped does: words end at whitespace, single and
// double quotes group, and a backslash escapes the next character (\n, \t,
// \x41, \101, \cA and friends). keepalived applies it twice to a script:
// once to the configuration line, once to the command string.
func splitCommand(s string) ([]string, error) {
	var (
		args  []string
		cur   []byte
		in    bool // inside a word
		quote byte
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("backslash at end of string")
			}
			var b byte
			b, i = unescape(s, i+1)
			if b == 0 {
				return nil, errors.New(`\0 is not allowed`)
			}
			cur = append(cur, b)
			in = true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur = append(cur, c)
			}
		case c == '"' || c == '\'':
			quote = c
			in = true
		case strings.IndexByte(whitespace, c) >= 0:
			if in {
				args = append(args, string(cur))
				cur = cur[:0]
				in = false
			}
		default:
			cur = append(cur, c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("missing closing %c", quote)
	}
	if in {
		args = append(args, string(cur))
	}
	return args, nil
}

// unescape decodes the escape whose letter is at s[i]; it returns the byte
// and the index of the escape's last character.
func unescape(s string, i int) (byte, int) {
	c := s[i]
	switch {
	case c == 'x' && i+1 < len(s) && isHex(s[i+1]):
		var b byte
		for i+1 < len(s) && isHex(s[i+1]) { // greedy, as in keepalived
			i++
			b = b<<4 | hexVal(s[i])
		}
		return b, i
	case c == 'c' && i+1 < len(s):
		return s[i+1] & 0x1f, i + 1
	case c >= '0' && c <= '7':
		b := c - '0'
		for n := 0; n < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; n++ {
			i++
			b = b<<3 | (s[i] - '0')
		}
		return b, i
	}
	switch c {
	case 'a':
		return '\a', i
	case 'b':
		return '\b', i
	case 'E':
		return 0x1b, i
	case 'f':
		return '\f', i
	case 'n':
		return '\n', i
	case 'r':
		return '\r', i
	case 't':
		return '\t', i
	case 'v':
		return '\v', i
	}
	return c, i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// quoteCommand is the inverse of keepalived's two passes of splitCommand:
// it returns the double-quoted configuration word for a command.
func quoteCommand(args []string) (string, error) {
	inner := make([]string, len(args))
	for i, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return "", errors.New("a command argument contains a NUL byte")
		}
		if a != "" && !strings.ContainsAny(a, whitespace+`'"\`) {
			inner[i] = a
			continue
		}
		r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
		inner[i] = "'" + r.Replace(a) + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(strings.Join(inner, " ")) {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '"' || c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\%03o`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// parseVIPAddr parses ADDR[/PREFIX]. Without a prefix the address is a
// host route, /32 or /128, as keepalived assumes. The address keeps its host
// bits: it is an interface address, not a network.
func parseVIPAddr(s string) (netip.Prefix, error) {
	a, bits, hasBits := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("expected an IP address, got %q", a)
	}
	if addr.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("an address zone is not allowed: %q", a)
	}
	addr = addr.Unmap()
	n := addr.BitLen()
	if hasBits {
		var ok bool
		if n, ok = parseUint(bits, 0, addr.BitLen()); !ok {
			return netip.Prefix{}, fmt.Errorf("expected a prefix length 0-%d, got %q", addr.BitLen(), bits)
		}
	}
	return netip.PrefixFrom(addr, n), nil
}

// parseIP parses a plain address, without a prefix.
func parseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("expected an IP address, got %q", s)
	}
	return a.Unmap(), nil
}
