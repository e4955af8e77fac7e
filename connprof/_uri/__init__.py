"""Connection-string parsers: MongoDB URIs and Exasol DSNs, text to frozen values."""
