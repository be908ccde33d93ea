"""Catalog facts as Python tables (generated from the Flan 2022 lists, see each module)."""
