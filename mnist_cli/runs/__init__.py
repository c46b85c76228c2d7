"""Run directories: their files and schema, atomic writes, and write faults."""
