"""The operator's commands: the values (`commands`), one handler each (`pairs`,
`faults`, `expect`), and the one registry that gives them to a lab (`registry.do`).
The scenario runner, the walkthrough player and the lab's screen all come here."""
