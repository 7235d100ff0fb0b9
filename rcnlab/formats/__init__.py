"""One reader for every input file (topology, scenario, walkthrough): TOML structured into
attrs specs with cattrs, every problem one line ``FILE: key.path: problem``."""

from rcnlab.formats.reader import FormatError, parse_toml, read_text, structure

__all__ = ["FormatError", "parse_toml", "read_text", "structure"]
