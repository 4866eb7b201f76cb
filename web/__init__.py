"""Network work: safe fetching, feeds and pages, and the news sources Parley polls."""
