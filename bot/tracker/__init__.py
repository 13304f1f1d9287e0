"""Following unfinished jobs: the dispatcher, when to look again, the request budget and which
jobs this process holds. No Discord."""
