"""Large, asynchronous spreadsheet imports into year wheels, on Postgres alone."""
