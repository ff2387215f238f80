from claude_usage_tray.cli import main

raise SystemExit(main())
