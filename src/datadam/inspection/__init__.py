"""Inspection (검수): stages, verdicts, rework, corrections as versions, appeals and lots."""
