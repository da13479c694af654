"""Browser tests: real pages in Debian chromium driven by Playwright."""
