-- A placeholder for another branch's migration 0013 (issues 22-23): dropped when they merge.
SELECT 1;
