"""The data transaction of one import attempt: readers, COPY, progress."""
