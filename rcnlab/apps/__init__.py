"""Applications on the emulated volumes, driven through the public Session API.

``rcnlab.apps.sqlite`` puts a stock SQLite database on block devices of the lab
(an apsw VFS, `vfs.BlockVFS`), runs a bank-transfer workload on the source, injects a
fault, fails every pair over, and opens the target's image with the standard library's
``sqlite3`` (`run.run_app`). The emulation never imports this package; it imports the
run layer (``rcnlab.run``) and apsw (the ``rcnlab[apps]`` extra)."""
