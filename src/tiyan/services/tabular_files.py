"""Kept for the callers that decode a whole small file in memory; the reader is
`tiyan.services.table_files`."""

from tiyan.services.table_files import decode_text

__all__ = ["decode_text"]
