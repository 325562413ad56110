"""The three civicpanel services: panel, surveys and feedback."""
