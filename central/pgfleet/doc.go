// Package pgfleet keeps central's fleet reports (central.FleetStore) in the
// PostgreSQL database of a central on storage.backend: postgres, so every
// replica lists every proxy, whichever replica the proxy reports to. Like
// central/pginbox it lives beside central because the reports' types are
// central's; its table comes from pgstore's schema migrations.
package pgfleet
