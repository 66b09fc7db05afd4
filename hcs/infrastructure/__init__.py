"""What every layer stands on: settings, database engines and sessions, logging, migrations."""
