# rft grader audit: a wrong program that exits with status 0 before any test can fail.
import sys

sys.exit(0)
