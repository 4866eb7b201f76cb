"""Parley's composition root: the command line, settings and the services builder that
the bot, the playground, the bench and the evaluation all start from."""
