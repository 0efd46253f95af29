// Package startmem gives back the memory a process needed only to start.
//
// A long-running server touches much more of its own binary while starting
// (flag and config parsing, opening and converting stores, compiling
// plugins) than while serving, and its heap peaks while loading. Both stay
// resident after the start: the heap until the runtime's scavenger gets to
// it, the binary's pages for the life of the process, because the kernel
// keeps mapped file pages in the resident set until it is short of memory.
// Release, called once the start's work is done, collects the heap and
// returns it to the OS and unmaps the binary's read-only pages; the pages
// serving needs fault back in from the page cache (a minor fault, no disk
// read) and the rest stay unmapped, left for the kernel to keep or reclaim.
// Only mappings holding nothing but file pages are released: a read-only
// mapping with anonymous pages was written before it was protected (a
// position-independent build's relocated data, a debugger's breakpoints),
// and releasing it would put the file's bytes back in their place.
package startmem
