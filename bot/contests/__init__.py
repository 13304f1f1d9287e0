"""Community prompt contests: phases from stored times, entries, votes, a deadline scheduler.

The database holds every contest's state; nothing here keeps a timer a restart would lose.
"""
