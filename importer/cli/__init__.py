"""Command-line clients of the API (`importer submit`, `preview`, `import-preview`, `watch`,
`cancel`, `retry`) and of the database (`importer jobs`).

Exit codes of `submit`, `import-preview`, `watch` and `retry --follow` (`cancel` and `retry`
alone: 0 when the server took the action, 2 as below when it refused; `preview`: 0 when the
server made the preview, 2 as below when it refused the file or the request failed):
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
