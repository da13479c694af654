"""Server-rendered pages: site pages, live board, public notice, regulator console; templates and static files."""
