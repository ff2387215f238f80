"""The pure core: values in, values out. Nothing here does I/O, and nothing here imports from
outside `core` (tests/unit/test_core_purity.py keeps it so)."""
