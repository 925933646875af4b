"""python -m grader: the instructor's command line (grader.cli)."""
import sys

from .cli import main

sys.exit(main())
