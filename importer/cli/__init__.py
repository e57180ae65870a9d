"""Command-line clients of the API (`importer submit`, `watch`, `cancel`, `retry`) and of the
database (`importer jobs`).

Exit codes of `submit`, `watch` and `retry --follow` (`cancel` and `retry` alone: 0 when the
server took the action, 2 as below when it refused):
  0  the import completed
  1  the import failed (the error code and message are printed)
  2  the import was cancelled, or the request itself failed: bad arguments, an HTTP error
     (the server's JSON error message is printed), or the server could not be reached
130  interrupted (Ctrl-C); the import goes on in the server
"""

EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_CANCELLED = 2
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
