"""The five-level administrative division registry: codes, kinds, CSV import, lookups.

Modules: codes (levels and parents from codes), kinds (kind from name), csvfiles (reading
and checking official CSVs), importer (all-or-nothing upsert), shipped (the package's
provinces → townships), registry (lookups and search), bulk (dialect-specific bulk I/O).
"""
