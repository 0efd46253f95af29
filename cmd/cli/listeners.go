package cli

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
)

// listenFDsEnv names how many listening sockets the parent handed over as
// file descriptors 3, 4, …. A parent that opened the ports itself (a test
// harness, a supervisor doing socket activation, a restart without a gap)
// owns them for the whole run: nothing else can take the port between its
// choice and this process binding it.
const listenFDsEnv = "TOKENOMICS_LISTEN_FDS"

// inherited holds the handed-over listeners by port until a listen call
// claims one; the rest are closed once the server is up.
var inherited struct {
	once sync.Once
	mu   sync.Mutex
	byPt map[int]net.Listener
	err  error
}

func loadInherited() {
	inherited.byPt = map[int]net.Listener{}
	v := os.Getenv(listenFDsEnv)
	if v == "" {
		return
	}
	// Grandchildren (none today) must not try to claim the same sockets.
	_ = os.Unsetenv(listenFDsEnv)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 64 {
		inherited.err = fmt.Errorf("$%s=%q: want a small count of file descriptors", listenFDsEnv, v)
		return
	}
	for i := 0; i < n; i++ {
		f := os.NewFile(uintptr(3+i), "listener")
		ln, err := net.FileListener(f)
		_ = f.Close() // FileListener holds its own duplicate
		if err != nil {
			inherited.err = fmt.Errorf("$%s: descriptor %d is not a listening socket: %w", listenFDsEnv, 3+i, err)
			return
		}
		if ta, ok := ln.Addr().(*net.TCPAddr); ok {
			inherited.byPt[ta.Port] = ln
		} else {
			_ = ln.Close()
		}
	}
}

// listenTCP binds addr, or returns the handed-over listener on the same
// port when the parent passed one.
func listenTCP(addr string) (net.Listener, error) {
	inherited.once.Do(loadInherited)
	if inherited.err != nil {
		return nil, inherited.err
	}
	if _, ps, err := net.SplitHostPort(addr); err == nil {
		if p, err := strconv.Atoi(ps); err == nil && p != 0 {
			inherited.mu.Lock()
			ln, ok := inherited.byPt[p]
			delete(inherited.byPt, p)
			inherited.mu.Unlock()
			if ok {
				return ln, nil
			}
		}
	}
	return net.Listen("tcp", addr)
}

// closeUnclaimed closes handed-over listeners no configured port asked
// for, so this process does not keep somebody else's port open.
func closeUnclaimed() {
	inherited.once.Do(loadInherited)
	inherited.mu.Lock()
	defer inherited.mu.Unlock()
	for p, ln := range inherited.byPt {
		_ = ln.Close()
		delete(inherited.byPt, p)
	}
}

// everyInterface reports whether addr's host accepts connections from any
// network, which start-up says in so many words.
func everyInterface(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsUnspecified()
}
