"""Browser tests: the lessons' widgets in a real JupyterLab, in headless Chromium."""
