"""GAN Studio: the Qt desktop application over the ``training_core`` engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gan-studio")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"

APP_NAME = "GAN Studio"
APP_ID = "io.github.ganstudio.GANStudio"  # reverse-DNS id: desktop file, AppStream, window matching
