// Package pginbox keeps central's event inbox (central.EventStore) in the
// PostgreSQL database of a central on storage.backend: postgres, so every
// replica lists the events any of them received. It lives beside central,
// not in core/store/pgstore, because the inbox's types are central's.
package pginbox
