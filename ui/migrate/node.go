package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/vipkit/vip/ssh"
)

// Node is one node as migrate reaches it: commands, and files read and
// put, over one SSH login.
type Node interface {
	// Exec runs a line of sh on the node (through sudo where the login
	// needs it) and returns its standard output.
	Exec(ctx context.Context, cmd string) ([]byte, error)
	// FS reads the node's files, as the login user; names are relative
	// to the node's / (io/fs rules).
	FS() fs.FS
	// Home is the login user's home directory.
	Home(ctx context.Context) (string, error)
	// Put writes data as file (absolute; its directory is made) as the
	// login user, and Remove removes the files and empty directories
	// given, in order.
	Put(ctx context.Context, file string, data []byte, mode fs.FileMode) error
	Remove(ctx context.Context, files ...string) error
	Close() error
}

// SSHNode is a Node over package ssh: commands in sessions, files over
// SFTP. A link that drops is dialed again at the next call.
type SSHNode struct {
	cfg ssh.Config

	mu     sync.Mutex
	client *ssh.Client
	sftp   *sftp.Client
}

var _ Node = (*SSHNode)(nil)

// NewSSHNode returns a node reached with cfg. It dials on first use.
func NewSSHNode(cfg ssh.Config) *SSHNode { return &SSHNode{cfg: cfg} }

// conn returns the live connection, dialing one if there is none.
func (n *SSHNode) conn(ctx context.Context) (*ssh.Client, *sftp.Client, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.client != nil {
		select {
		case <-n.client.Done():
			n.drop()
		default:
			return n.client, n.sftp, nil
		}
	}
	c, err := ssh.Dial(ctx, n.cfg)
	if err != nil {
		return nil, nil, err
	}
	s, err := c.SFTP()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	n.client, n.sftp = c, s
	return c, s, nil
}

func (n *SSHNode) drop() {
	if n.sftp != nil {
		n.sftp.Close()
	}
	if n.client != nil {
		n.client.Close()
	}
	n.client, n.sftp = nil, nil
}

// Exec runs cmd on the node.
func (n *SSHNode) Exec(ctx context.Context, cmd string) ([]byte, error) {
	c, _, err := n.conn(ctx)
	if err != nil {
		return nil, err
	}
	return c.Exec(ctx, cmd)
}

// Home is the SFTP session's working directory: the login's home.
func (n *SSHNode) Home(ctx context.Context) (string, error) {
	_, s, err := n.conn(ctx)
	if err != nil {
		return "", err
	}
	return s.Getwd()
}

// Put writes file over SFTP.
func (n *SSHNode) Put(ctx context.Context, file string, data []byte, mode fs.FileMode) error {
	_, s, err := n.conn(ctx)
	if err != nil {
		return err
	}
	if err := s.MkdirAll(path.Dir(file)); err != nil {
		return fmt.Errorf("failed to make %s: %w", path.Dir(file), err)
	}
	f, err := s.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", file, err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		f.Close()
		return fmt.Errorf("failed to write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write %s: %w", file, err)
	}
	if err := s.Chmod(file, mode); err != nil {
		return fmt.Errorf("failed to chmod %s: %w", file, err)
	}
	return nil
}

// Remove removes files over SFTP; one already gone is no error.
func (n *SSHNode) Remove(ctx context.Context, files ...string) error {
	_, s, err := n.conn(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		if err := s.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("failed to remove %s: %w", f, err))
		}
	}
	return errors.Join(errs...)
}

// FS reads the node's files over SFTP.
func (n *SSHNode) FS() fs.FS { return sftpFS{n} }

// Close ends the connection.
func (n *SSHNode) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.drop()
	return nil
}

// sftpFS is the node's file system, read-only, over SFTP: enough for
// node/config's includes (Open, ReadDir for globs).
type sftpFS struct{ n *SSHNode }

func (f sftpFS) client(op, name string) (*sftp.Client, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, s, err := f.n.conn(ctx)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return s, nil
}

func (f sftpFS) Open(name string) (fs.File, error) {
	s, err := f.client("open", name)
	if err != nil {
		return nil, err
	}
	file, err := s.Open("/" + name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return file, nil
}

func (f sftpFS) ReadDir(name string) ([]fs.DirEntry, error) {
	s, err := f.client("readdir", name)
	if err != nil {
		return nil, err
	}
	infos, err := s.ReadDir("/" + strings.TrimPrefix(name, "."))
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, len(infos))
	for i, fi := range infos {
		out[i] = fs.FileInfoToDirEntry(fi)
	}
	return out, nil
}

var _ fs.ReadDirFS = sftpFS{}
