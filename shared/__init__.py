"""Code every civicpanel service uses: settings, database, message bus, contracts, auth, errors."""
