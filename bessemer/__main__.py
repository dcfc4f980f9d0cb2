import sys

from bessemer.cli import main

sys.exit(main())
