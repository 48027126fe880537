"""A package that inspects its own loader while it is imported (as many do)."""

import importlib.resources
from importlib.machinery import SourceFileLoader

import pkg_resources

LOADER_IS_REAL = isinstance(__loader__, SourceFileLoader) and __spec__.loader is __loader__
HAS_DATA = pkg_resources.resource_exists(__name__, "data.txt")
LISTING = sorted(n for n in pkg_resources.resource_listdir(__name__, "") if n.endswith(".txt"))
IS_DIR = pkg_resources.resource_isdir(__name__, "")
DATA = importlib.resources.files(__name__).joinpath("data.txt").read_text().strip()
