// Package memory appends each proxied exchange to Markdown files, as a
// policy's "memory" block asks: one file per token ({token_hash} in
// file_name), per day ({date}), or one shared file. The request path only
// enqueues an entry (never blocks: a full queue drops and counts); one
// goroutine formats and writes, keeping a bounded set of files open. Paths
// are checked against the operator's allowed directories again at write
// time, so a config change narrows what old tokens may write. The texts it
// receives are the ones sent upstream, that is after input masking.
package memory
