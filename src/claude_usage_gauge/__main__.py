from claude_usage_gauge.cli import main

raise SystemExit(main())
