"""Payment gateways behind one interface, and the registry built from settings."""
