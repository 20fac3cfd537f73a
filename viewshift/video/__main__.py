"""``python -m viewshift.video``: video conversion from the command line (see :mod:`viewshift.video.cli`)."""

import sys

from viewshift.video.cli import main

sys.exit(main())
