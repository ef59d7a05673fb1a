"""Weekly digests: figures by SQL aggregation, text and chart, scheduled posting."""
