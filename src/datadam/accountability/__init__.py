"""Accountability: organisation scorecards and awards ranking, the program office dashboard,
the audit trail viewer, and the talent pool with job offers (issue 7, items 6-9)."""
