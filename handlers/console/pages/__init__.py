"""The console's pages, one module a desk task. Lists are read from storage; every action is the
chat command run as the account (handlers.console.actions), so a page can do exactly what the
command can."""
