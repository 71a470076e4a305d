"""Entry point of the frozen (PyInstaller) app: the same as the ``gan-studio`` launcher."""

import sys

from gan_studio.app import main

if __name__ == "__main__":
    sys.exit(main())
