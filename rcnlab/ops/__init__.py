"""The operator's commands as values (`rcnlab.ops.commands`)."""
