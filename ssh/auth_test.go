package ssh

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/vipkit/vip/ssh/sshtest"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup adjusts cfg and returns the key the server trusts. home
		// has def as ~/.ssh/id_ed25519.
		setup func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey
		// wantErr is "" for success, else a part of the error.
		wantErr string
	}{
		{
			name: "default identity file",
			setup: func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey {
				return def.pub() // ~/.ssh/id_ed25519
			},
		},
		{
			name: "IdentityFiles",
			setup: func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey {
				k := newKey(t)
				cfg.IdentityFiles = []string{k.write(t, filepath.Join(home, "keys", "ops"))}
				return k.pub()
			},
		},
		{
			name: "agent",
			setup: func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey {
				k := newKey(t)
				cfg.AgentSocket = sshtest.NewAgent(t, k.priv)
				return k.pub()
			},
		},
		{
			name: "encrypted key held by agent",
			setup: func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey {
				file, priv, pub := lockedKey(t)
				cfg.IdentityFiles = []string{file}
				cfg.AgentSocket = sshtest.NewAgent(t, priv)
				return pub
			},
		},
		{
			name: "encrypted key skipped with a note",
			setup: func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey {
				file, _, pub := lockedKey(t)
				cfg.IdentityFiles = []string{file}
				return pub
			},
			wantErr: "needs a passphrase",
		},
		{
			name: "encrypted key skipped, next one used",
			setup: func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey {
				locked, _, _ := lockedKey(t)
				cfg.IdentityFiles = []string{
					locked,
					filepath.Join(home, ".ssh", "id_ed25519"),
				}
				return def.pub()
			},
		},
		{
			name: "no matching key",
			setup: func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey {
				cfg.AgentSocket = sshtest.NewAgent(t, newKey(t).priv)
				return newKey(t).pub()
			},
			wantErr: "offered agent key SHA256:", // then the default file
		},
		{
			name: "unreachable agent",
			setup: func(t *testing.T, home string, def key, cfg *Config) gossh.PublicKey {
				cfg.AgentSocket = filepath.Join(home, "no-agent")
				return newKey(t).pub()
			},
			wantErr: "unreachable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := bound(t, 20*time.Second)
			h := home(t)
			def := newKey(t)
			def.write(t, filepath.Join(h, ".ssh", "id_ed25519"))
			cfg := Config{Home: h, AgentSocket: "none", Timeout: 5 * time.Second, Logger: testLogger(t)}
			trusted := tt.setup(t, h, def, &cfg)
			srv := sshtest.NewServer(t, sshtest.Options{
				Handler:        echo("ok"),
				AuthorizedKeys: []gossh.PublicKey{trusted},
			})
			cfg.Target = "root@" + srv.Addr()
			writeFile(t, filepath.Join(h, ".ssh", "known_hosts"), srv.KnownHostsLine())

			c, err := Dial(ctx, cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatalf("Dial succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "failed to log in as root") {
				t.Fatalf("Dial error = %v, want a login failure containing %q", err, tt.wantErr)
			}
		})
	}
}

// lockedKey is testdata/locked_ed25519, encrypted with "secret" and a
// single KDF round so that tests need not spend seconds in bcrypt.
func lockedKey(t *testing.T) (file string, priv any, pub gossh.PublicKey) {
	t.Helper()
	file, err := filepath.Abs(filepath.Join("testdata", "locked_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(readFile(t, file))
	if priv, err = gossh.ParseRawPrivateKeyWithPassphrase(b, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	pub = readPublicKey(file + ".pub")
	if pub == nil {
		t.Fatal("no testdata/locked_ed25519.pub")
	}
	return file, priv, pub
}
