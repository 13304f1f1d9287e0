-- A placeholder for another branch's migration 0011 (issues 22-23): dropped when they merge.
SELECT 1;
