"""bulk-onboard: onboard clients and people into ONLYOFFICE DocSpace in bulk."""

__version__ = "0.1.0"
