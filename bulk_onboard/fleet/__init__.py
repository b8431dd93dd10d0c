"""A fleet of portals: one fleet file, every portal's nightly run from one process."""
