// Package abi holds the constants and byte layouts of the Tokenomics content
// rule ABI, version 1. It is imported by the guest SDK (compiled to wasip1)
// and by the host (core/rules), so both sides agree on names and offsets.
//
// The full contract, written for authors of plugins in any language, is in
// docs/PLUGINS.md. In short:
//
//   - The guest exports the marker function [ExportMarker], an allocator
//     ([ExportAlloc], [ExportFree]), [ExportConfigure] and [ExportCheck], and
//     its linear memory as "memory". It may also export [ExportCheckMany]
//     (one call for several configurations); the host then checks
//     consecutive rules of the module in one call.
//   - The guest may import functions only from [ImportModule] (the host
//     primitives below) and from "wasi_snapshot_preview1".
//   - Texts reach the guest in the [Input] layout; the guest answers with the
//     [Result] layout; numbers are little-endian uint32.
//
// Version changes are made by name: an incompatible ABI gets new names
// (tokenomics_abi_v2, tokenomics_v2); compatible additions are optional
// exports the host detects by presence.
package abi
