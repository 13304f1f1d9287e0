"""What users see: status cards and their parts."""
