import subprocess
import sys
import textwrap


def test_training_core_imports_without_qt():
    """The engine must run headless: importing it with Qt blocked must work (docs/DESIGN.md: the one rule)."""
    code = textwrap.dedent("""
        import importlib, pkgutil, sys

        class BlockQt:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "qasync", "gan_studio", "shiboken6"):
                    raise ImportError("Qt is blocked in this test: " + name)

        sys.meta_path.insert(0, BlockQt())
        import training_core
        for mod in pkgutil.walk_packages(training_core.__path__, "training_core."):
            importlib.import_module(mod.name)
        print("ok", len(sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
