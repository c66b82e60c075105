"""`make bench`: the ticket rush, availability polling at a million orders, and the sweep."""
