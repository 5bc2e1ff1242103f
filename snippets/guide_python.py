# kiln: timeout = 5s
import sys
from collections import Counter

words = "the cat and the hat and the bat".split()
print(Counter(words).most_common(2))
print("a note on stderr", file=sys.stderr)
print(sorted({"pear", "apple", "fig"}))
