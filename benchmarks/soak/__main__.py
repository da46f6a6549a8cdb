"""`python -m benchmarks.soak`: run the soak and print its one-line JSON report."""

from benchmarks.soak.cli import main

raise SystemExit(main())
