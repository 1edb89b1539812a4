"""Fair pay: measured working time, pay terms, the minimum-wage guarantee and the ledger."""
