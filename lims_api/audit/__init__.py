"""Evidence: the hash-chained audit log, daily signed checkpoints, the LIMS signing key, the export bundle."""
