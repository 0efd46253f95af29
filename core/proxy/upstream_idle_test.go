package proxy

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// armCounter counts the read deadlines set on a real pipe end.
type armCounter struct {
	net.Conn
	arms int
}

func (c *armCounter) SetReadDeadline(t time.Time) error {
	c.arms++
	return c.Conn.SetReadDeadline(t)
}

// TestIdleConnDeadlines: a stalled read is cut after the idle timeout (or
// the call's deadline when nearer), a producing stream is never cut, and
// reads do not re-arm the deadline each time.
func TestIdleConnDeadlines(t *testing.T) {
	t.Parallel()
	t.Run("stalled stream is cut", func(t *testing.T) {
		t.Parallel()
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := &idleConn{Conn: a, idle: 150 * time.Millisecond}
		start := time.Now()
		_, err := c.Read(make([]byte, 8))
		require.True(t, errors.Is(err, os.ErrDeadlineExceeded), "%v", err)
		assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "never before the idle timeout")
	})
	t.Run("call deadline nearer than idle", func(t *testing.T) {
		t.Parallel()
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		ac := &armCounter{Conn: a}
		c := &idleConn{Conn: ac, idle: time.Hour}
		require.NoError(t, c.SetReadDeadline(time.Now().Add(200*time.Millisecond)))
		go func() {
			for range 20 {
				if _, err := b.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, 1)
		for range 20 {
			_, err := c.Read(buf)
			require.NoError(t, err)
		}
		assert.Equal(t, 1, ac.arms, "the call's deadline, set once, holds for every read")
		_, err := c.Read(buf)
		require.True(t, errors.Is(err, os.ErrDeadlineExceeded), "%v", err)
	})
	t.Run("producing stream re-arms rarely and is not cut", func(t *testing.T) {
		t.Parallel()
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		ac := &armCounter{Conn: a}
		c := &idleConn{Conn: ac, idle: 10 * time.Second}
		const n = 200
		go func() {
			for range n {
				if _, err := b.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, 1)
		for range n {
			_, err := c.Read(buf)
			require.NoError(t, err)
		}
		// One arm, plus one per idle/32 (312 ms) the loop took.
		assert.Less(t, ac.arms, 20, "re-armed on %d of %d reads", ac.arms, n)
	})
}
