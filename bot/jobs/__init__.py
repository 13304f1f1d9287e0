"""Starting, retrying, cancelling and deleting jobs, and finding a job whose answer was lost."""
