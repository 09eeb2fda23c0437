#!/bin/sh
# The review-case benchmark: the built agent-os reviews each case under
# cases/ over MCP stdio; prints recall, precision, own-standard rank,
# irrelevant passages and brief length. Usage: bench/analyses/reviews/run.sh
# (REVIEWS_CASE=name runs the cases whose name contains it; VERBOSE=1 prints each brief.)
set -e
cd "$(dirname "$0")/../../.."
exec cargo nextest run --workspace --run-ignored only --no-capture -E 'test(/reviews_benchmark/)'
