"""`python -m benchmarks`: run every workload for every engine and print the table."""

from benchmarks.cli import main

raise SystemExit(main())
