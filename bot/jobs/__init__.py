"""Starting, retrying, cancelling and deleting jobs, and finding a job whose answer was lost.

The core: nothing here imports Discord or the edge (bot.interactions, bot.ui, bot.delivery),
which hands in plain data (`requests.Asker`) and the cards jobs ask for (`cards.Cards`)."""
