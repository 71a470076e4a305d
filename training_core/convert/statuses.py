"""One vocabulary for a file's fate in a conversion: the plan's decision, the report, the app's list.

Torch-free, so the app's Convert tab can use it before the engine has loaded.
"""

CONVERTED, SKIPPED, FAILED = "converted", "skipped", "failed"
STATUSES = (CONVERTED, SKIPPED, FAILED)
