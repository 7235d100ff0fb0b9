from rcnlab.cli import main

raise SystemExit(main())
