"""What every domain of the LIMS stands on: settings, database, ORM base, errors, request dependencies, migrations."""
