// Pipeline processors arrive with the redaction issue.
