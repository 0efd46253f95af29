// Package memory appends each proxied exchange to Markdown files, as a
// policy's "memory" block asks: one file per token ({token_hash} or
// {session_id} in file_name), per day ({date}), in subdirectories ("/" in
// file_name, e.g. "{date}/{token_hash}.md"), or one shared file. The request
// path only enqueues an entry (never blocks: a full queue drops and counts);
// one goroutine formats and writes, keeping a bounded set of files open, and
// rotates a file past memory.max_size_mb (gzipping it with compress_old).
//
// Paths are checked against the operator's allowed directories after the
// placeholders are expanded, and again at every open, so a config change
// narrows what old tokens may write. Below an allowed directory the path is
// walked one segment at a time from a directory descriptor, creating
// directories 0700 and files 0600, and no symbolic link is followed
// (openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS on Linux, O_NOFOLLOW on
// other unix systems); only regular files with a single link are appended
// to. Values from the request or the policy (model, provider, roles,
// metadata) are escaped on one line and texts are block-quoted, so none can
// forge a record boundary. The texts it receives are the ones sent
// upstream, that is after input masking.
//
// Durability and order: records are formatted into a buffer per file
// (16 KiB) that goes to the file in one write when it fills, every
// Options.FlushEvery (default 1 s), before a rotation or an eviction, and at
// Close. So a crash loses at most the last FlushEvery of records, and the
// writer makes about one write call per buffer, not one per record. Records
// of one file appear in the order Append accepted them (one goroutine
// drains one FIFO queue, taking what queued meanwhile in one go).
//
// Texts: an entry may carry its texts in a pooled Texts instead of
// strings, so the proxy records an exchange without allocating. Append
// takes a Texts over (accepted or dropped); the writer gives it back to the
// pool once the entry is formatted, and any handle kept past Append panics
// on use instead of reaching a buffer another entry now holds.
package memory
