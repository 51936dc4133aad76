"""The probe agent that runs on township access points and gateways."""
