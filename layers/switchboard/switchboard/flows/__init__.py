"""The use cases: intake, delivery, patients' texts and their follow-up, calls, lines, campaigns."""
