"""Pure, synchronous values of the RCN: ids, RIOs, log entries, frames, pair states, tables."""
